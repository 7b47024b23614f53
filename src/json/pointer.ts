// RFC 6901 JSON pointers: building them for error reports and following configured ones (partition
// keys, webhook delivery ids) into scanned values.

import type { JsonNode } from './node.ts';

/** Member names longer than this are not echoed in error pointers (the body is the caller's, but an
 *  answer listing 100 problems must not grow with it). */
export const MAX_ECHOED_NAME = 256;

export function escapePointerToken(token: string): string {
  if (!token.includes('~') && !token.includes('/')) return token;
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** `base` + one member name or index; a name too long to echo leaves the pointer at `base`. */
export function appendPointer(base: string, token: string | number): string {
  if (typeof token === 'number') return `${base}/${String(token)}`;
  if (token.length > MAX_ECHOED_NAME) return base;
  return `${base}/${escapePointerToken(token)}`;
}

/** A pointer as its decoded reference tokens: the form a configured pointer is kept in. */
export type JsonPointer = readonly string[];

/**
 * Reference tokens of a pointer (`""` is the whole value, `[]`); undefined when it is not an RFC 6901
 * pointer (does not start with `/`, or has a `~` not followed by `0` or `1`).
 */
export function parseJsonPointer(pointer: string): string[] | undefined {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return undefined;
  const tokens = pointer.slice(1).split('/');
  for (const token of tokens) {
    if (/~(?![01])/.test(token)) return undefined;
  }
  return tokens.map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/**
 * A configured pointer, parsed once at startup. Config validation has vetted it, so one that is not
 * RFC 6901 here is a bug: a TypeError naming the setting.
 */
export function toJsonPointer(pointer: string, setting: string): JsonPointer;
export function toJsonPointer(
  pointer: string | undefined,
  setting: string,
): JsonPointer | undefined;
export function toJsonPointer(
  pointer: string | undefined,
  setting: string,
): JsonPointer | undefined {
  if (pointer === undefined) return undefined;
  const tokens = parseJsonPointer(pointer);
  if (tokens === undefined) throw new TypeError(`${setting} is not an RFC 6901 JSON pointer`);
  return tokens;
}

const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;

/**
 * The node a pointer designates inside `root`, or undefined when it does not exist. Containers on the
 * path must have been materialized by the scan. With duplicate member names the last one wins, as
 * with JSON.parse, which is what most consumers of the record will see.
 */
export function resolvePointer(root: JsonNode, tokens: JsonPointer): JsonNode | undefined {
  let node: JsonNode | undefined = root;
  for (const token of tokens) {
    if (node === undefined) return undefined;
    if (node.kind === 'object') {
      node = node.members?.findLast((member) => member.key === token)?.value;
    } else if (node.kind === 'array') {
      node = ARRAY_INDEX.test(token) ? node.items?.[Number(token)] : undefined;
    } else {
      return undefined;
    }
  }
  return node;
}

// Turning a scanned `data` value into the bytes DIS receives, and reading partition keys out of it.

import { resolvePointer } from './json-pointer.ts';
import type { JsonNode } from './json-scanner.ts';
import { BACKSLASH, decodeStringToken, isJsonWhitespace, QUOTE } from './json-tokens.ts';

/** Partition keys and ids are 1..256 characters. */
export const MAX_KEY_CHARS = 256;

/** The caller's text for a value, compacted. The input was valid UTF-8, so re-encoding is exact. */
export function toDataBytes(text: string, node: JsonNode): Buffer {
  const bytes = Buffer.from(text.slice(node.start, node.end), 'utf8');
  const hasWs = (node.kind === 'object' || node.kind === 'array') && node.ws;
  return hasWs ? compactJsonBytes(bytes) : bytes;
}

/**
 * Removes whitespace outside strings from already-validated JSON, in place. Works on UTF-8 bytes:
 * every byte of a multi-byte character is >= 0x80, so none can pass for a quote, backslash or space.
 */
export function compactJsonBytes(bytes: Buffer): Buffer {
  let out = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i] ?? 0;
    if (inString) {
      if (c === BACKSLASH) {
        bytes[out++] = c;
        bytes[out++] = bytes[++i] ?? 0;
        continue;
      }
      if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (isJsonWhitespace(c)) {
      continue;
    }
    bytes[out++] = c;
  }
  return bytes.subarray(0, out);
}

/** The decoded value of a string node. */
export function stringValue(text: string, node: JsonNode): string {
  return decodeStringToken(text, node.start, node.end);
}

/** Why a string cannot be a partition key, id or correlation id; undefined when it can. */
export function keyStringProblem(value: string): string | undefined {
  if (value.length === 0) return 'must not be empty';
  if (value.length > MAX_KEY_CHARS) {
    // Characters are code points; only a longer string can have too many.
    let chars = 0;
    for (let k = 0; k < value.length; chars++) k += (value.codePointAt(k) ?? 0) > 0xffff ? 2 : 1;
    if (chars > MAX_KEY_CHARS) return `must be at most ${MAX_KEY_CHARS} characters`;
  }
  if (!value.isWellFormed()) return 'must not contain a lone UTF-16 surrogate';
  return undefined;
}

/** See ParsedRecord.pointerKey. */
export function pointerKeyOf(
  text: string,
  data: JsonNode,
  tokens: readonly string[],
): string | undefined {
  const node = resolvePointer(data, tokens);
  if (node === undefined) return undefined;
  switch (node.kind) {
    case 'string': {
      const value = stringValue(text, node);
      return keyStringProblem(value) === undefined ? value : undefined;
    }
    case 'number':
    case 'true':
    case 'false':
      return text.slice(node.start, node.end);
    default:
      return undefined;
  }
}

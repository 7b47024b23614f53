// What the scanner returns: spans of the scanned text, not values, so that a value's own text
// (digits, escapes, member order) can be handed on unchanged.

import { decodeStringToken } from './tokens.ts';

/** Positions are UTF-16 offsets into the scanned text; `end` is exclusive. */
export type JsonNode =
  | {
      readonly kind: 'object';
      readonly start: number;
      readonly end: number;
      /** Whitespace occurs inside the span outside strings (compaction needed). */
      readonly ws: boolean;
      /** In document order, duplicates kept; undefined below the materialization depth. */
      readonly members: readonly JsonMember[] | undefined;
    }
  | {
      readonly kind: 'array';
      readonly start: number;
      readonly end: number;
      readonly ws: boolean;
      readonly items: readonly JsonNode[] | undefined;
    }
  | {
      readonly kind: 'string' | 'number' | 'true' | 'false' | 'null';
      readonly start: number;
      readonly end: number;
    };

export interface JsonMember {
  /** Decoded member name. */
  readonly key: string;
  readonly value: JsonNode;
}

/** The decoded value of a string node. */
export function stringValue(text: string, node: JsonNode): string {
  return decodeStringToken(text, node.start, node.end);
}

// A scanned value as the bytes DIS receives: the caller's own text, compacted.

import type { JsonNode } from './node.ts';
import { BACKSLASH, isJsonWhitespace, QUOTE } from './tokens.ts';

/** The caller's text for a value, compacted. The input was valid UTF-8, so re-encoding is exact. */
export function compactValueBytes(text: string, node: JsonNode): Buffer {
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

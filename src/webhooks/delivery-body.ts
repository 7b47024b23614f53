import { keyStringProblem } from '../json/key-string.ts';
import { stringValue, type JsonNode } from '../json/node.ts';
import { resolvePointer, type JsonPointer } from '../json/pointer.ts';
import { scanJson } from '../json/scanner.ts';
import { utf8Text } from '../json/utf8.ts';

// Webhook bodies are read with json/'s strict scanner (the records endpoint's too), never
// JSON.parse: the envelope must carry the sender's own digits, and ids and keys must come from the
// same value a strict reader sees (duplicate member names: the last one wins, as with JSON.parse).

/** Deeper bodies are still forwarded, as text (`body_text`). The scanner is iterative; the bound
 *  protects consumers that parse the envelope recursively. */
export const MAX_WEBHOOK_JSON_DEPTH = 512;

export interface JsonBody {
  readonly text: string;
  readonly root: JsonNode;
}

/**
 * A delivery's body on its way from the route through the verifier to the envelope. The UTF-8 check
 * and the JSON scan run on first use, so never before the signature holds, and once: the delivery
 * id, the envelope and its partition key all reuse them.
 */
export interface DeliveryBody {
  /** The exact bytes received, which signatures are computed over. */
  readonly bytes: Buffer;
  /** The body as text when it is valid UTF-8 (a byte order mark kept), else undefined. */
  text(): string | undefined;
  /**
   * The body as one JSON value (valid UTF-8 and strict RFC 8259), else undefined. Containers are
   * materialized `depth` levels down so pointers that long resolve; asking deeper than the first
   * call did scans again, which is why the verifier asks first, for all that the source will need.
   */
  json(depth: number): JsonBody | undefined;
}

export function readDeliveryBody(bytes: Buffer): DeliveryBody {
  let decoded: { readonly text: string | undefined } | undefined;
  let scanned: { readonly depth: number; readonly json: JsonBody | undefined } | undefined;
  const text = (): string | undefined => (decoded ??= { text: utf8Text(bytes) }).text;
  return {
    bytes,
    text,
    json(depth) {
      // A body that is not JSON is not JSON at any depth.
      if (scanned === undefined || (scanned.json !== undefined && scanned.depth < depth)) {
        scanned = { depth, json: scanText(text(), depth) };
      }
      return scanned.json;
    },
  };
}

function scanText(text: string | undefined, materializeDepth: number): JsonBody | undefined {
  if (text === undefined) return undefined;
  // RFC 8259 §8.1 lets a parser ignore a leading byte order mark.
  const from = text.startsWith('\uFEFF') ? 1 : 0;
  const scanned = scanJson(text, from, text.length, {
    maxDepth: MAX_WEBHOOK_JSON_DEPTH,
    materializeDepth,
  });
  return scanned.ok ? { text, root: scanned.value } : undefined;
}

export type KeyLookup =
  | { readonly kind: 'found'; readonly value: string }
  /** Not JSON, or nothing at the pointer. */
  | { readonly kind: 'absent' }
  /** Something is there, but it is no usable id or key (wrong type, empty, too long). */
  | { readonly kind: 'invalid' };

/**
 * The string (decoded) or number (as sent) at a pointer, checked as DIS checks partition keys and
 * the gateway its ids: 1..256 characters, well-formed.
 */
export function keyAtPointer(body: DeliveryBody, pointer: JsonPointer): KeyLookup {
  const json = body.json(pointer.length);
  if (json === undefined) return { kind: 'absent' };
  const node = resolvePointer(json.root, pointer);
  if (node === undefined) return { kind: 'absent' };
  let value: string;
  if (node.kind === 'string') value = stringValue(json.text, node);
  else if (node.kind === 'number') value = json.text.slice(node.start, node.end);
  else return { kind: 'invalid' };
  return keyStringProblem(value) === undefined ? { kind: 'found', value } : { kind: 'invalid' };
}

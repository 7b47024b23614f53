// A strict RFC 8259 scanner that returns spans instead of values. The gateway must hand DIS the
// caller's own text (each record's `data`, a webhook's body) so that `9007199254740993` or `1e400`
// survive digit for digit, which JSON.parse + JSON.stringify cannot do. Iterative, so deep nesting
// cannot overflow the call stack; the depth limit is enforced as containers open.

import { InvariantError } from '../errors/coded-error.ts';
import type { JsonMember, JsonNode } from './node.ts';
import { escapePointerToken, MAX_ECHOED_NAME } from './pointer.ts';
import {
  QUOTE,
  COMMA,
  MINUS,
  COLON,
  LBRACKET,
  RBRACKET,
  LOWER_F,
  LOWER_N,
  LOWER_T,
  LBRACE,
  RBRACE,
  isDigit,
  describeChar,
  SyntaxFailure,
  skipWhitespace,
  unexpected,
  stringEnd,
  numberEnd,
  literalEnd,
  decodeStringToken,
  codeAt,
} from './tokens.ts';

export interface ScanLimits {
  /** Containers nested deeper than this fail the scan. */
  readonly maxDepth: number;
  /** Containers at depth 1..materializeDepth keep their members/items; deeper ones only spans. */
  readonly materializeDepth: number;
}

export type ScanFailure = {
  readonly kind: 'syntax' | 'depth';
  /** Offset in the scanned text where the problem was found. */
  readonly offset: number;
  readonly reason: string;
  /** RFC 6901 pointer (relative to the scanned value) of the innermost place being read. */
  readonly pointer: string;
};

export type ScanResult =
  | { readonly ok: true; readonly value: JsonNode }
  | { readonly ok: false; readonly failure: ScanFailure };

/** One open container. */
interface Frame {
  readonly isObject: boolean;
  readonly start: number;
  readonly wsAtStart: number;
  readonly members: JsonMember[] | undefined;
  readonly items: JsonNode[] | undefined;
  /** Current member name token (objects), for pointers and members. */
  keyStart: number;
  keyEnd: number;
  /** Values completed so far (arrays: index of the next one). */
  count: number;
  /** A member value is being read (so the current key/index belongs in an error pointer). */
  inValue: boolean;
}

interface ScanState {
  /** frames[0..depth) are the open containers, outermost first; entries beyond are stale. */
  readonly frames: Frame[];
  depth: number;
}

/**
 * Scans exactly one JSON value spanning `text[from, to)` (surrounding whitespace allowed). Duplicate
 * member names are kept, not judged: the caller decides what they mean at each level.
 */
export function scanJson(text: string, from: number, to: number, limits: ScanLimits): ScanResult {
  const state: ScanState = { frames: [], depth: 0 };
  try {
    return { ok: true, value: scan(text, from, to, limits, state) };
  } catch (error) {
    if (!(error instanceof SyntaxFailure)) throw error;
    return {
      ok: false,
      failure: {
        kind: error.kind,
        offset: error.offset,
        reason: error.reason,
        pointer: framesPointer(text, state),
      },
    };
  }
}

/** `pos` is where a member name must start; records it in the frame, returns the position after it. */
function readKey(text: string, pos: number, to: number, frame: Frame, afterComma: boolean): number {
  const c = pos < to ? codeAt(text, pos) : -1;
  if (c !== QUOTE) {
    if (afterComma && c === RBRACE) throw new SyntaxFailure(pos, 'trailing comma');
    throw c === -1
      ? unexpected(text, pos, to)
      : new SyntaxFailure(pos, 'expected a member name in quotes');
  }
  frame.keyStart = pos;
  frame.keyEnd = stringEnd(text, pos, to);
  frame.inValue = true;
  return frame.keyEnd;
}

/** After a member name: whitespace, a colon, whitespace; returns where the value starts. */
function afterKey(text: string, keyEnd: number, to: number): number {
  const colon = skipWhitespace(text, keyEnd, to);
  if ((colon < to ? codeAt(text, colon) : -1) !== COLON) {
    throw colon >= to ? unexpected(text, colon, to) : new SyntaxFailure(colon, "expected ':'");
  }
  return skipWhitespace(text, colon + 1, to);
}

function scan(
  text: string,
  from: number,
  to: number,
  limits: ScanLimits,
  state: ScanState,
): JsonNode {
  const { frames } = state;
  // Counts whitespace runs skipped outside strings; a container whose count changed has whitespace.
  let ws = 0;
  let i = skipWhitespace(text, from, to);
  let j: number;
  let afterComma = false;
  // The value just read. Nodes are only built for values someone keeps (a materialized container
  // or the result), which spares an allocation per scalar inside `data`.
  let kind: JsonNode['kind'];
  let valueStart: number;
  let valueEnd: number;
  let valueWs = false;
  let closed: Frame | undefined;

  for (;;) {
    // A value starts at i.
    valueStart = i;
    closed = undefined;
    const c = i < to ? codeAt(text, i) : -1;
    const trailingComma = afterComma;
    afterComma = false;
    if (c === QUOTE) {
      i = stringEnd(text, i, to);
      kind = 'string';
    } else if (c === MINUS || isDigit(c)) {
      i = numberEnd(text, i, to);
      kind = 'number';
    } else if (c === LBRACE || c === LBRACKET) {
      if (state.depth >= limits.maxDepth) {
        throw new SyntaxFailure(i, `nesting deeper than ${limits.maxDepth} levels`, 'depth');
      }
      const isObject = c === LBRACE;
      const keep = state.depth < limits.materializeDepth;
      const frame = openFrame(frames, state.depth, isObject, i, ws, keep);
      state.depth++;
      j = skipWhitespace(text, i + 1, to);
      if (j !== i + 1) ws++;
      i = j;
      if ((i < to ? codeAt(text, i) : -1) !== (isObject ? RBRACE : RBRACKET)) {
        if (isObject) {
          const keyEnd = readKey(text, i, to, frame, false);
          i = afterKey(text, keyEnd, to);
          if (i - keyEnd !== 1) ws++;
        }
        continue;
      }
      i++;
      state.depth--;
      kind = isObject ? 'object' : 'array';
      valueWs = ws !== frame.wsAtStart;
      closed = frame;
    } else if (c === LOWER_T) {
      i = literalEnd(text, i, to, 'true');
      kind = 'true';
    } else if (c === LOWER_F) {
      i = literalEnd(text, i, to, 'false');
      kind = 'false';
    } else if (c === LOWER_N) {
      i = literalEnd(text, i, to, 'null');
      kind = 'null';
    } else if (trailingComma && (c === RBRACKET || c === RBRACE)) {
      throw new SyntaxFailure(i, 'trailing comma');
    } else {
      throw unexpected(text, i, to);
    }

    // A value ended at i: hand it to its container, then read separators and closers.
    for (;;) {
      valueEnd = i;
      j = skipWhitespace(text, i, to);
      if (j !== i) ws++;
      i = j;
      if (state.depth === 0) {
        if (i < to) {
          throw new SyntaxFailure(i, `unexpected ${describeChar(codeAt(text, i))} after the value`);
        }
        return makeNode(kind, valueStart, valueEnd, valueWs, closed);
      }
      const top = frames[state.depth - 1];
      if (top === undefined) throw new InvariantError('scanner frame missing');
      if (top.members !== undefined) {
        top.members.push({
          key: decodeKey(text, top),
          value: makeNode(kind, valueStart, valueEnd, valueWs, closed),
        });
      } else if (top.items !== undefined) {
        top.items.push(makeNode(kind, valueStart, valueEnd, valueWs, closed));
      }
      top.count++;
      top.inValue = false;
      const next = i < to ? codeAt(text, i) : -1;
      if (next === COMMA) {
        j = skipWhitespace(text, i + 1, to);
        if (j !== i + 1) ws++;
        i = j;
        if (top.isObject) {
          const keyEnd = readKey(text, i, to, top, true);
          i = afterKey(text, keyEnd, to);
          if (i - keyEnd !== 1) ws++;
        } else {
          top.inValue = true;
          afterComma = true;
        }
        break;
      }
      if (next !== (top.isObject ? RBRACE : RBRACKET)) {
        if (next === -1) throw unexpected(text, i, to);
        throw new SyntaxFailure(
          i,
          `expected ',' or '${top.isObject ? '}' : ']'}' but found ${describeChar(next)}`,
        );
      }
      i++;
      state.depth--;
      kind = top.isObject ? 'object' : 'array';
      valueStart = top.start;
      valueWs = ws !== top.wsAtStart;
      closed = top;
    }
  }
}

/**
 * The node of a value just read. A top-level function, not a closure over scan's locals: a closure
 * would move those locals into a heap context and cost every step of the loop a memory access.
 */
function makeNode(
  kind: JsonNode['kind'],
  start: number,
  end: number,
  ws: boolean,
  closed: Frame | undefined,
): JsonNode {
  if (kind === 'object') return { kind, start, end, ws, members: closed?.members };
  if (kind === 'array') return { kind, start, end, ws, items: closed?.items };
  return { kind, start, end };
}

function openFrame(
  frames: Frame[],
  depth: number,
  isObject: boolean,
  start: number,
  ws: number,
  keep: boolean,
): Frame {
  const frame: Frame = {
    isObject,
    start,
    wsAtStart: ws,
    members: keep && isObject ? [] : undefined,
    items: keep && !isObject ? [] : undefined,
    keyStart: -1,
    keyEnd: -1,
    count: 0,
    inValue: !isObject,
  };
  frames[depth] = frame;
  return frame;
}

function decodeKey(text: string, frame: Frame): string {
  return decodeStringToken(text, frame.keyStart, frame.keyEnd);
}

function framesPointer(text: string, state: ScanState): string {
  let pointer = '';
  for (const frame of state.frames.slice(0, state.depth)) {
    if (!frame.inValue) break;
    if (!frame.isObject) {
      pointer += `/${String(frame.count)}`;
      continue;
    }
    // An error must not echo a huge member name back; the pointer stops at its object instead.
    if (frame.keyEnd - frame.keyStart > MAX_ECHOED_NAME) break;
    pointer += `/${escapePointerToken(decodeKey(text, frame))}`;
  }
  return pointer;
}

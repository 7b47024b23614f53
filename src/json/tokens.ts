import { CodedError } from '../errors/coded-error.ts';

// The lexical pieces of RFC 8259 JSON for the scanner: each reads one token at a position of the
// text and returns where it ends, or throws a SyntaxFailure naming the offset.

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
export const QUOTE = 0x22;
const PLUS = 0x2b;
export const COMMA = 0x2c;
export const MINUS = 0x2d;
const DOT = 0x2e;
const SLASH = 0x2f;
const ZERO = 0x30;
const NINE = 0x39;
export const COLON = 0x3a;
const UPPER_E = 0x45;
export const LBRACKET = 0x5b;
export const BACKSLASH = 0x5c;
export const RBRACKET = 0x5d;
const LOWER_B = 0x62;
const LOWER_E = 0x65;
export const LOWER_F = 0x66;
export const LOWER_N = 0x6e;
const LOWER_R = 0x72;
export const LOWER_T = 0x74;
const LOWER_U = 0x75;
export const LBRACE = 0x7b;
export const RBRACE = 0x7d;

// String.prototype.charCodeAt called as a function, not looked up on the string. Once any ordinary
// object has String.prototype as its prototype (ioredis 6 defines `class VerbatimString extends
// String` when it loads), V8 stops folding `text.charCodeAt(i)` into a character load: each call
// becomes a property lookup and a generic call, and the scanner's loops ran 4-6x slower in the
// gateway than in isolation. The builtin reached through `.call` keeps the fast path either way.
// eslint-disable-next-line @typescript-eslint/unbound-method -- only ever called through .call(text, i)
const charCodeAt = String.prototype.charCodeAt;

/** The UTF-16 code unit of `text` at `i` (NaN past the end, as `text.charCodeAt(i)`). */
export function codeAt(text: string, i: number): number {
  return charCodeAt.call(text, i);
}

export function isJsonWhitespace(c: number): boolean {
  return c === SPACE || c === LF || c === CR || c === TAB;
}

export function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

function isHex(c: number): boolean {
  return (c >= ZERO && c <= NINE) || ((c | 0x20) >= 0x61 && (c | 0x20) <= LOWER_F);
}

/** One character for an error message, never more of the caller's text than that. */
export function describeChar(c: number): string {
  if (c > SPACE && c < 0x7f) return JSON.stringify(String.fromCharCode(c));
  return `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Thrown inside the scan only; scanJson turns it into a ScanFailure value. */
export class SyntaxFailure extends CodedError<'ERR_JSON_SYNTAX' | 'ERR_JSON_TOO_DEEP'> {
  readonly offset: number;
  readonly reason: string;
  readonly kind: 'syntax' | 'depth';
  constructor(offset: number, reason: string, kind: 'syntax' | 'depth' = 'syntax') {
    super(kind === 'depth' ? 'ERR_JSON_TOO_DEEP' : 'ERR_JSON_SYNTAX', reason);
    this.offset = offset;
    this.reason = reason;
    this.kind = kind;
  }
}

/** Position after the whitespace at `pos`. */
export function skipWhitespace(text: string, pos: number, to: number): number {
  let j = pos;
  while (j < to && isJsonWhitespace(codeAt(text, j))) j++;
  return j;
}

export function unexpected(text: string, at: number, to: number): SyntaxFailure {
  return at >= to
    ? new SyntaxFailure(at, 'unexpected end of input')
    : new SyntaxFailure(at, `unexpected character ${describeChar(codeAt(text, at))}`);
}

/** `open` is at a quote; returns the position after the closing quote. */
export function stringEnd(text: string, open: number, to: number): number {
  // The common case first, in the tightest loop: no escape, no control character.
  for (let j = open + 1; j < to; j++) {
    const c = codeAt(text, j);
    if (c === QUOTE) return j + 1;
    if (c === BACKSLASH || c < SPACE) return escapedStringEnd(text, open, j, to);
  }
  throw new SyntaxFailure(open, 'unterminated string');
}

/** The rest of a string from `from` (an escape or a control character) on. */
function escapedStringEnd(text: string, open: number, from: number, to: number): number {
  let j = from;
  for (;;) {
    if (j >= to) throw new SyntaxFailure(open, 'unterminated string');
    const c = codeAt(text, j);
    if (c === QUOTE) return j + 1;
    if (c === BACKSLASH) {
      const e = j + 1 < to ? codeAt(text, j + 1) : -1;
      if (e === LOWER_U) {
        for (let h = j + 2; h < j + 6; h++) {
          if (h >= to || !isHex(codeAt(text, h))) {
            throw new SyntaxFailure(j, 'invalid \\u escape in string');
          }
        }
        j += 6;
      } else if (
        e === QUOTE ||
        e === BACKSLASH ||
        e === SLASH ||
        e === LOWER_B ||
        e === LOWER_F ||
        e === LOWER_N ||
        e === LOWER_R ||
        e === LOWER_T
      ) {
        j += 2;
      } else {
        throw new SyntaxFailure(j, 'invalid escape in string');
      }
    } else if (c < SPACE) {
      throw new SyntaxFailure(j, `unescaped control character ${describeChar(c)} in string`);
    } else {
      j++;
    }
  }
}

function digitsEnd(text: string, pos: number, to: number): number {
  let j = pos;
  while (j < to && isDigit(codeAt(text, j))) j++;
  if (j === pos) throw unexpected(text, pos, to);
  return j;
}

/** `start` is at `-` or a digit; returns the position after the number. */
export function numberEnd(text: string, start: number, to: number): number {
  let j = start;
  if (codeAt(text, j) === MINUS) j++;
  if (j < to && codeAt(text, j) === ZERO) {
    j++;
    if (j < to && isDigit(codeAt(text, j))) {
      throw new SyntaxFailure(j - 1, 'leading zeros are not allowed');
    }
  } else {
    j = digitsEnd(text, j, to);
  }
  if (j < to && codeAt(text, j) === DOT) j = digitsEnd(text, j + 1, to);
  const e = j < to ? codeAt(text, j) : -1;
  if (e === LOWER_E || e === UPPER_E) {
    j++;
    const sign = j < to ? codeAt(text, j) : -1;
    if (sign === PLUS || sign === MINUS) j++;
    j = digitsEnd(text, j, to);
  }
  return j;
}

export function literalEnd(text: string, start: number, to: number, word: string): number {
  if (start + word.length > to || !text.startsWith(word, start)) throw unexpected(text, start, to);
  return start + word.length;
}

/** The value of a string token already validated by the scanner. */
export function decodeStringToken(text: string, start: number, end: number): string {
  const inner = text.slice(start + 1, end - 1);
  if (!inner.includes('\\')) return inner;
  const decoded: unknown = JSON.parse(text.slice(start, end));
  return typeof decoded === 'string' ? decoded : '';
}

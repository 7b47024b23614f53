// `data_base64` is standard Base64 (RFC 4648 §4) with padding and nothing else: Buffer.from(…,
// 'base64') would quietly accept base64url, whitespace and garbage and decode something else.

export type Base64Result =
  | { readonly ok: true; readonly bytes: Buffer }
  | { readonly ok: false; readonly reason: string; readonly tooLarge?: true };

const ALPHABET_WITH_PADDING = /^[A-Za-z0-9+/]*={0,2}$/;
const OUTSIDE_ALPHABET = /[^A-Za-z0-9+/=]/;

/** Decoded length of well-formed padded Base64 text, without decoding it. */
function decodedLength(value: string): number {
  const padding = value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0;
  return (value.length / 4) * 3 - padding;
}

export function decodeStrictBase64(value: string, maxBytes: number): Base64Result {
  if (value.length === 0) return { ok: false, reason: '"data_base64" must not be empty' };
  const bad = OUTSIDE_ALPHABET.exec(value);
  if (bad !== null) {
    const c = bad[0];
    const what =
      c === '-' || c === '_'
        ? `base64url character ${JSON.stringify(c)}`
        : /\s/.test(c)
          ? 'whitespace'
          : 'a character outside the Base64 alphabet';
    return {
      ok: false,
      reason: `"data_base64" must be standard Base64; found ${what} at index ${bad.index}`,
    };
  }
  if (value.length % 4 !== 0 || !ALPHABET_WITH_PADDING.test(value)) {
    return { ok: false, reason: '"data_base64" must be standard Base64 with correct "=" padding' };
  }
  const length = decodedLength(value);
  if (length > maxBytes) {
    return {
      ok: false,
      reason: `"data_base64" decodes to ${length} bytes; at most ${maxBytes} per record`,
      tooLarge: true,
    };
  }
  const bytes = Buffer.from(value, 'base64');
  // Non-zero bits in the last character before the padding are dropped by decoders; refusing them
  // keeps one Base64 text per byte string.
  if (bytes.toString('base64') !== value) {
    return {
      ok: false,
      reason: '"data_base64" must be canonical Base64 (unused trailing bits must be zero)',
    };
  }
  return { ok: true, bytes };
}

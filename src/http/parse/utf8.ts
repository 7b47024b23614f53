import { AppError } from '../../errors/app-error.ts';

/**
 * The body as text. Invalid UTF-8 (including overlong forms and encoded surrogates) is a 400 naming
 * the first bad byte: replacing it with U+FFFD would silently change what reaches DIS. A leading UTF-8
 * byte order mark is skipped (RFC 8259 §8.1 lets parsers ignore it); anywhere else it is just a
 * character, which JSON rejects outside strings.
 */
export function decodeUtf8Body(body: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch (error) {
    throw new AppError('ERR_HTTP_INVALID_UTF8', {
      detail: `invalid UTF-8 at byte offset ${firstInvalidUtf8Offset(body)}`,
      cause: error,
    });
  }
}

/** Offset of the first byte that starts no valid UTF-8 sequence (Unicode Table 3-7), or -1. */
export function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  const n = bytes.length;
  const at = (k: number): number => (k < n ? (bytes[k] ?? -1) : -1);
  let i = 0;
  while (i < n) {
    const b = at(i);
    if (b < 0x80) {
      i++;
      continue;
    }
    let trailing: number;
    let low = 0x80;
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) trailing = 1;
    else if (b === 0xe0) [trailing, low] = [2, 0xa0];
    else if (b === 0xed) [trailing, high] = [2, 0x9f];
    else if (b >= 0xe1 && b <= 0xef) trailing = 2;
    else if (b === 0xf0) [trailing, low] = [3, 0x90];
    else if (b === 0xf4) [trailing, high] = [3, 0x8f];
    else if (b >= 0xf1 && b <= 0xf3) trailing = 3;
    else return i;
    const second = at(i + 1);
    if (second < low || second > high) return i;
    for (let k = 2; k <= trailing; k++) {
      const next = at(i + k);
      if (next < 0x80 || next > 0xbf) return i;
    }
    i += trailing + 1;
  }
  return -1;
}

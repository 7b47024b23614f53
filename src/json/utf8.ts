// Strict UTF-8: a byte sequence that is not well-formed (overlong forms, encoded surrogates, code
// points above U+10FFFF) is refused, never replaced with U+FFFD, which would silently change what
// reaches DIS.

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

/** The bytes as text, or undefined when they are not valid UTF-8. A byte order mark is kept. */
export function utf8Text(bytes: Buffer): string | undefined {
  return firstInvalidUtf8Offset(bytes) === -1 ? bytes.toString('utf8') : undefined;
}

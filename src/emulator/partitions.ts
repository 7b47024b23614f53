import { createHash } from 'node:crypto';
import { MAX_HASH_KEY } from '../dis/wire.ts';

export interface HashRange {
  readonly lo: bigint;
  readonly hi: bigint;
}

/**
 * The hash space [0, 2^63−1] cut into n contiguous ranges of width floor((2^63−1)/n), the last one
 * absorbing the remainder. DIS does not document its boundaries for n > 1 (dis-api.md Open question 2);
 * this matches the 1-partition example and java-dis's `Long.MAX_VALUE / n` arithmetic.
 */
export function hashRanges(count: number): HashRange[] {
  const n = BigInt(count);
  const width = MAX_HASH_KEY / n;
  return Array.from({ length: count }, (_, i) => {
    const index = BigInt(i);
    return {
      lo: index * width,
      hi: i === count - 1 ? MAX_HASH_KEY : (index + 1n) * width - 1n,
    };
  });
}

/** The java-dis rule (dis-api.md §4): MD5 of the UTF-8 key, first 8 bytes big-endian, sign bit cleared. */
export function partitionKeyHash(key: string): bigint {
  const digest = createHash('md5').update(key, 'utf8').digest();
  return digest.readBigUInt64BE(0) & MAX_HASH_KEY;
}

export function partitionForHash(ranges: readonly HashRange[], hash: bigint): number {
  const index = ranges.findIndex((range) => hash >= range.lo && hash <= range.hi);
  return index === -1 ? ranges.length - 1 : index;
}

const DECIMAL = /^\d{1,19}$/;

/** A decimal in 0…2^63−1 (explicit hash keys, sequence numbers); undefined otherwise. */
export function parseUnsigned63(value: string): bigint | undefined {
  if (!DECIMAL.test(value)) return undefined;
  const n = BigInt(value);
  return n <= MAX_HASH_KEY ? n : undefined;
}

export function formatRange(lo: bigint, hi: bigint): string {
  return `[${lo} : ${hi}]`;
}

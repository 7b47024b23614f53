import type { PutRecordsRequestEntry } from './wire.ts';

export interface ChunkLimits {
  readonly maxRecords: number;
  /** Raw (decoded) data bytes per request. */
  readonly maxBytes: number;
}

/** Raw byte length of Base64 text without decoding it. */
export function base64RawLength(data: string): number {
  const len = data.length;
  if (len === 0) return 0;
  const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0;
  return Math.floor((len * 3) / 4) - padding;
}

/**
 * Splits entries, in order, into runs of at most `maxRecords` records and `maxBytes` raw bytes; a
 * single record larger than `maxBytes` travels alone. Returns the indices of each run.
 */
export function toChunks(
  entries: readonly PutRecordsRequestEntry[],
  limits: ChunkLimits,
): number[][] {
  const chunks: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  entries.forEach((entry, index) => {
    const size = base64RawLength(entry.data);
    if (
      current.length > 0 &&
      (current.length >= limits.maxRecords || bytes + size > limits.maxBytes)
    ) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(index);
    bytes += size;
  });
  if (current.length > 0) chunks.push(current);
  return chunks;
}

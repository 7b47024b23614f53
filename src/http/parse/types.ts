// What the records parser takes and gives, on their own so that the body parser and the per-record
// checks can share them without importing each other.

import type { JsonPointer } from '../../json/pointer.ts';

export interface ParsedRecord {
  /**
   * The exact bytes to write to DIS: for `data`, the UTF-8 of the caller's JSON text of that value,
   * compacted (whitespace outside strings removed; numbers, escapes and member order as sent); for
   * `data_base64`, the decoded bytes.
   */
  readonly data: Buffer;
  /** The caller's correlation id, echoed back in the verdict. */
  readonly id?: string;
  readonly partitionKey?: string;
  /** As sent: `shardId-0000000003` or `3`. */
  readonly partitionId?: string;
  readonly explicitHashKey?: string;
  /**
   * Only when `partitionKeyPointer` is set and the record has none of the three keys above: the value
   * at that pointer inside `data` (strings decoded, numbers and booleans as their JSON text); absent
   * when missing, null, an object, an array, or a string that cannot be a partition key (empty, over
   * 256 characters, or with a lone surrogate).
   */
  readonly pointerKey?: string;
}

export interface RecordsParseOptions {
  /** More records → 413 `ERR_VALIDATION_TOO_LARGE`. */
  readonly maxRecords: number;
  /** Bytes of one record's data as written to DIS (≤ 1 MiB); more → 413 with its pointer. */
  readonly maxRecordBytes: number;
  /** Container nesting limit over the whole document (the JSON envelope counts 3 levels). */
  readonly maxDepth: number;
  /** Pointer into `data` used for `pointerKey`, parsed at startup (toJsonPointer). */
  readonly partitionKeyPointer?: JsonPointer;
  /** When known, `partition_id` must be below it. */
  readonly partitions?: number;
}

import type { IngestRecord } from './records.ts';

/**
 * The key a per-key stream orders a record by: its partition id, explicit hash key or partition key
 * (given, or found at the stream's pointer), each kind apart; none for a record without one.
 */
export function orderingKey(record: IngestRecord): string | undefined {
  if (record.partitionId !== undefined) return `p\u0000${record.partitionId}`;
  if (record.explicitHashKey !== undefined) return `h\u0000${record.explicitHashKey}`;
  const key = record.partitionKey ?? record.pointerKey;
  return key === undefined ? undefined : `k\u0000${key}`;
}

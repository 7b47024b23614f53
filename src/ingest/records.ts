import type { PutRecordsRequestEntry } from '../dis/wire.ts';

// What ingest works with, independent of how the records arrived (JSON, NDJSON, webhook, spool).

export interface IngestRecord {
  /** The raw bytes to store in DIS. */
  readonly data: Buffer;
  /** The caller's correlation id, echoed in its verdict. */
  readonly id?: string | undefined;
  readonly partitionKey?: string | undefined;
  readonly partitionId?: string | undefined;
  readonly explicitHashKey?: string | undefined;
  /** Key found at the stream's partition-key pointer inside the data. */
  readonly pointerKey?: string | undefined;
}

/** A logical stream of the config, resolved to its DIS stream. */
export interface StreamTarget {
  readonly name: string;
  readonly disStream: string;
  readonly streamId?: string | undefined;
}

/** Where DIS puts a record: exactly one of the three, in DIS's precedence. */
export type Routing =
  | { readonly partitionId: string }
  | { readonly explicitHashKey: string }
  | { readonly partitionKey: string };

/**
 * DIS's precedence is partition id > explicit hash key > partition key; a record with none of them
 * takes the key at the stream's pointer, else a random key so records spread over the partitions.
 */
export function toRouting(record: IngestRecord, randomKey: () => string): Routing {
  if (record.partitionId !== undefined) return { partitionId: record.partitionId };
  if (record.explicitHashKey !== undefined) return { explicitHashKey: record.explicitHashKey };
  return { partitionKey: record.partitionKey ?? record.pointerKey ?? randomKey() };
}

/** One DIS entry per record, routed by {@link toRouting}. */
export function toDisEntry(record: IngestRecord, randomKey: () => string): PutRecordsRequestEntry {
  const entry: PutRecordsRequestEntry = { data: record.data.toString('base64') };
  const routing = toRouting(record, randomKey);
  if ('partitionId' in routing) entry.partition_id = routing.partitionId;
  else if ('explicitHashKey' in routing) entry.explicit_hash_key = routing.explicitHashKey;
  else entry.partition_key = routing.partitionKey;
  return entry;
}

import { toPutRecordsEntry, type PutRecordsRequestEntry } from '../dis/wire.ts';
import type { SpoolRecord } from '../spool/entry.ts';

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
  /** `per_key`: records with the same key reach DIS in the order they were accepted. */
  readonly ordering?: 'per_key' | undefined;
  /** The DIS target (project, region, credentials) it writes to, by its config name; absent: `dis`. */
  readonly disTarget?: string | undefined;
}

/**
 * One DIS entry per record. A record without routing of its own takes the key at the stream's
 * pointer, else a random key so records spread over the partitions.
 */
export function toDisEntry(record: IngestRecord, randomKey: () => string): PutRecordsRequestEntry {
  return toPutRecordsEntry(record.data, record, () => record.pointerKey ?? randomKey());
}

/** What the spool stores for a record (the pointer key becomes its partition key). */
export function toSpoolRecord(record: IngestRecord): SpoolRecord {
  const partitionKey = record.partitionKey ?? record.pointerKey;
  return {
    data: record.data,
    ...(partitionKey === undefined ? {} : { partitionKey }),
    ...(record.partitionId === undefined ? {} : { partitionId: record.partitionId }),
    ...(record.explicitHashKey === undefined ? {} : { explicitHashKey: record.explicitHashKey }),
  };
}

import { toPutRecordsEntry, type PutRecordsRequestEntry } from '../dis/wire.ts';

// One spooled record is one stream entry. Field names are stable: entries outlive deployments.

export interface SpoolRecord {
  readonly data: Buffer;
  readonly partitionKey?: string;
  readonly partitionId?: string;
  readonly explicitHashKey?: string;
}

/** An entry read back from the spool stream. */
export interface SpoolEntry {
  readonly id: string;
  readonly receiptId: string;
  /** Position of the record within its receipt. */
  readonly index: number;
  readonly record: SpoolRecord;
  /** The entry's fields as stored, copied verbatim into the dead-letter stream. */
  readonly fields: readonly Buffer[];
}

const FIELD = {
  data: 'data',
  receipt: 'receipt',
  index: 'index',
  partitionKey: 'partition_key',
  partitionId: 'partition_id',
  explicitHashKey: 'explicit_hash_key',
} as const;

/**
 * The record's own fields as name/value pairs (the receipt id and index are added by the append
 * script). Absent keys are left out rather than stored empty, so an empty string stays a value.
 */
export function toRecordFields(record: SpoolRecord): (string | Buffer)[] {
  const fields: (string | Buffer)[] = [FIELD.data, record.data];
  if (record.partitionKey !== undefined) fields.push(FIELD.partitionKey, record.partitionKey);
  if (record.partitionId !== undefined) fields.push(FIELD.partitionId, record.partitionId);
  if (record.explicitHashKey !== undefined)
    fields.push(FIELD.explicitHashKey, record.explicitHashKey);
  return fields;
}

/** The entry, or undefined when it lacks the fields every appended entry has. */
export function decodeEntry(id: string, fields: readonly Buffer[]): SpoolEntry | undefined {
  const values = new Map<string, Buffer>();
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i];
    const value = fields[i + 1];
    if (name !== undefined && value !== undefined) values.set(name.toString('utf8'), value);
  }
  const text = (name: string): string | undefined => values.get(name)?.toString('utf8');
  const data = values.get(FIELD.data);
  const receiptId = text(FIELD.receipt);
  const index = Number(text(FIELD.index) ?? 'x');
  if (data === undefined || receiptId === undefined || !Number.isSafeInteger(index) || index < 0)
    return undefined;
  const partitionKey = text(FIELD.partitionKey);
  const partitionId = text(FIELD.partitionId);
  const hashKey = text(FIELD.explicitHashKey);
  const record: SpoolRecord = {
    data,
    ...(partitionKey === undefined ? {} : { partitionKey }),
    ...(partitionId === undefined ? {} : { partitionId }),
    ...(hashKey === undefined ? {} : { explicitHashKey: hashKey }),
  };
  return { id, receiptId, index, record, fields };
}

/**
 * A record with no routing of its own is keyed by its entry id: stable across retries (same
 * partition every time) and spread across partitions.
 */
export function toPutEntry(entry: SpoolEntry): PutRecordsRequestEntry {
  return toPutRecordsEntry(entry.record.data, entry.record, () => entry.id);
}

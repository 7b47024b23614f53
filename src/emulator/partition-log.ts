export interface EmulatorRecord {
  readonly sequenceNumber: bigint;
  readonly data: Buffer;
  readonly partitionKey?: string;
  readonly explicitHashKey?: string;
  /** Arrival time on the emulator clock (DIS `CreateTime`), ms since epoch. */
  readonly timestamp: number;
}

export type NewRecord = Omit<EmulatorRecord, 'sequenceNumber'>;

export interface Retention {
  readonly maxAgeMs: number;
  readonly maxRecordsPerPartition: number;
}

/** One partition's records: sequence numbers are dense, so a sequence number is an array index. */
export interface PartitionLog {
  /** Sequence number of the oldest retained record (== next when empty). */
  first(): bigint;
  /** Sequence number the next record will get. */
  next(): bigint;
  append(record: NewRecord): EmulatorRecord;
  get(sequenceNumber: bigint): EmulatorRecord | undefined;
  /** First retained sequence number whose record arrived at or after `timestamp` (next when none). */
  firstAtOrAfter(timestamp: number): bigint;
  /** Drops records older than maxAgeMs or beyond maxRecordsPerPartition, oldest first. */
  trim(now: number): void;
  snapshot(): EmulatorRecord[];
}

export function createPartitionLog(retention: Retention): PartitionLog {
  let records: EmulatorRecord[] = [];
  // Trimmed records before `offset` are dropped lazily so trimming one record is O(1).
  let offset = 0;
  let next = 0n;

  const size = (): number => records.length - offset;
  const first = (): bigint => next - BigInt(size());

  function trim(now: number): void {
    const oldest = now - retention.maxAgeMs;
    while (size() > 0) {
      const head = records[offset];
      if (head === undefined) break;
      if (size() <= retention.maxRecordsPerPartition && head.timestamp >= oldest) break;
      offset += 1;
    }
    if (offset > 1024 && offset * 2 > records.length) {
      records = records.slice(offset);
      offset = 0;
    }
  }

  return {
    first,
    next: () => next,
    append(record) {
      const stored: EmulatorRecord = { ...record, sequenceNumber: next };
      records.push(stored);
      next += 1n;
      return stored;
    },
    get(sequenceNumber) {
      const index = sequenceNumber - first();
      if (index < 0n || index >= BigInt(size())) return undefined;
      return records[offset + Number(index)];
    },
    firstAtOrAfter(timestamp) {
      for (let i = offset; i < records.length; i += 1) {
        const record = records[i];
        if (record !== undefined && record.timestamp >= timestamp) return record.sequenceNumber;
      }
      return next;
    },
    trim,
    snapshot: () => records.slice(offset),
  };
}

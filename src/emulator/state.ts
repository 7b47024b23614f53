import { PARTITION_WRITE_LIMITS, toShardId } from '../dis/wire.ts';
import type { StreamType } from '../dis/wire.ts';
import { createPartitionLog } from './partition-log.ts';
import type { EmulatorRecord, PartitionLog, Retention } from './partition-log.ts';
import { hashRanges } from './partitions.ts';
import { createWriteBucket } from './throttle.ts';
import type { WriteBucket } from './throttle.ts';

export interface PartitionState {
  readonly index: number;
  readonly hashLo: bigint;
  readonly hashHi: bigint;
  readonly log: PartitionLog;
  readonly bucket: WriteBucket;
}

export interface StreamState {
  readonly id: string;
  readonly name: string;
  readonly type: StreamType;
  readonly dataType: 'BLOB' | 'JSON' | 'CSV';
  readonly retentionHours: number;
  readonly createTime: number;
  readonly partitions: readonly PartitionState[];
}

export interface StreamSpec {
  readonly name: string;
  readonly partitions: number;
  readonly type?: StreamType | undefined;
  readonly dataType?: StreamState['dataType'] | undefined;
  readonly retentionHours?: number | undefined;
}

export interface EmulatorStats {
  /** Requests that reached a known route, by operation (`PutRecords`, `CreateToken`, ...). */
  readonly requests: Record<string, number>;
  /** PutRecords requests that passed authentication. */
  putRecordsCalls: number;
  recordsWritten: number;
  /** Per-record failures inside 200 responses, by error code. */
  readonly recordsFailed: Record<string, number>;
  authFailures: number;
}

export interface PartitionRecords {
  readonly partitionId: string;
  readonly records: EmulatorRecord[];
}

/** What tests may look at. */
export interface EmulatorState {
  streamNames(): string[];
  /** Retained records per partition; empty array for an unknown stream. */
  records(streamName: string): PartitionRecords[];
  readonly stats: Readonly<EmulatorStats>;
}

export interface EmulatorStore {
  readonly state: EmulatorState;
  readonly stats: EmulatorStats;
  stream(name: string): StreamState | undefined;
  streamById(id: string): StreamState | undefined;
  /** Sorted by name. */
  streams(): StreamState[];
  createStream(spec: StreamSpec): StreamState | undefined;
  deleteStream(name: string): boolean;
}

export interface StoreOptions {
  readonly clock: () => number;
  readonly random: () => number;
  readonly retention: Retention;
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function createEmulatorStore(options: StoreOptions): EmulatorStore {
  const streams = new Map<string, StreamState>();
  const stats: EmulatorStats = {
    requests: {},
    putRecordsCalls: 0,
    recordsWritten: 0,
    recordsFailed: {},
    authFailures: 0,
  };

  function newStreamId(): string {
    let id = '';
    for (let i = 0; i < 19; i += 1) {
      id += ID_ALPHABET[Math.floor(options.random() * ID_ALPHABET.length)] ?? 'A';
    }
    return id;
  }

  function createStream(spec: StreamSpec): StreamState | undefined {
    if (streams.has(spec.name)) return undefined;
    const type = spec.type ?? 'COMMON';
    const now = options.clock();
    const stream: StreamState = {
      id: newStreamId(),
      name: spec.name,
      type,
      dataType: spec.dataType ?? 'BLOB',
      retentionHours: spec.retentionHours ?? 24,
      createTime: now,
      partitions: hashRanges(spec.partitions).map((range, index) => ({
        index,
        hashLo: range.lo,
        hashHi: range.hi,
        log: createPartitionLog(options.retention),
        bucket: createWriteBucket(PARTITION_WRITE_LIMITS[type], now),
      })),
    };
    streams.set(spec.name, stream);
    return stream;
  }

  const state: EmulatorState = {
    streamNames: () => [...streams.keys()].sort(),
    records(streamName) {
      const stream = streams.get(streamName);
      if (stream === undefined) return [];
      const now = options.clock();
      return stream.partitions.map((p) => {
        p.log.trim(now);
        return { partitionId: toShardId(p.index), records: p.log.snapshot() };
      });
    },
    stats,
  };

  return {
    state,
    stats,
    stream: (name) => streams.get(name),
    streamById: (id) => [...streams.values()].find((s) => s.id === id),
    streams: () => [...streams.values()].sort((a, b) => (a.name < b.name ? -1 : 1)),
    createStream,
    deleteStream: (name) => streams.delete(name),
  };
}

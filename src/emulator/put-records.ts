import { z } from 'zod';
import {
  MAX_RECORD_BYTES,
  MAX_REQUEST_DATA_BYTES,
  STREAM_NAME,
  parsePartitionId,
  toShardId,
} from '../dis/wire.ts';
import type { PutRecordsResult, PutRecordsResultEntry } from '../dis/wire.ts';
import type { EmulatorContext, OperationInput } from './context.ts';
import { disError, disMessage } from './errors.ts';
import { json, parseJsonBody } from './http-io.ts';
import type { Reply } from './http-io.ts';
import { partitionForHash, partitionKeyHash, parseUnsigned63 } from './partitions.ts';
import type { PartitionState, StreamState } from './state.ts';

const Entry = z.object({
  data: z.string(),
  partition_key: z.string().optional(),
  partition_id: z.string().optional(),
  explicit_hash_key: z.string().optional(),
});

const Body = z.object({
  stream_name: z.string().optional(),
  stream_id: z.string().optional(),
  records: z.array(Entry).optional(),
});

type Entry = z.output<typeof Entry>;

// Strict RFC 4648 with padding: stricter than some decoders, so a client that passes here passes DIS.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

interface Prepared {
  readonly entry: Entry;
  readonly data: Buffer;
  readonly partition: PartitionState;
}

function resolveStream(ctx: EmulatorContext, name?: string, id?: string): StreamState {
  if (name !== undefined && !STREAM_NAME.test(name)) throw disError('DIS.4200', '[stream_name]');
  const stream =
    (name === undefined ? undefined : ctx.store.stream(name)) ??
    (id === undefined ? undefined : ctx.store.streamById(id));
  if (stream !== undefined) return stream;
  if (name === undefined && id === undefined)
    throw disError('DIS.4200', '[stream_name is required]');
  throw disError('DIS.4301', `[${name ?? ''}][${id ?? ''}]`);
}

function route(ctx: EmulatorContext, stream: StreamState, entry: Entry, i: number): PartitionState {
  const { partitions } = stream;
  const pick = (index: number): PartitionState => {
    const partition = partitions[index];
    if (partition === undefined)
      throw disError('DIS.4201', `[records[${i}]: ${entry.partition_id ?? index}]`);
    return partition;
  };
  if (entry.partition_id !== undefined) {
    return pick(parsePartitionId(entry.partition_id) ?? -1);
  }
  const ranges = partitions.map((p) => ({ lo: p.hashLo, hi: p.hashHi }));
  if (entry.explicit_hash_key !== undefined) {
    const hash = parseUnsigned63(entry.explicit_hash_key);
    if (hash === undefined) throw disError('DIS.4200', `[records[${i}].explicit_hash_key]`);
    return pick(partitionForHash(ranges, hash));
  }
  if (entry.partition_key !== undefined) {
    return pick(partitionForHash(ranges, partitionKeyHash(entry.partition_key)));
  }
  return pick(Math.min(partitions.length - 1, Math.floor(ctx.random() * partitions.length)));
}

/** Every check that fails the whole request runs before anything is stored. */
function prepare(ctx: EmulatorContext, stream: StreamState, entries: readonly Entry[]): Prepared[] {
  let total = 0;
  return entries.map((entry, i) => {
    if (entry.data === '' || !BASE64.test(entry.data)) {
      throw disError('DIS.4200', `[records[${i}].data must be non-empty Base64]`);
    }
    const data = Buffer.from(entry.data, 'base64');
    if (data.length > MAX_RECORD_BYTES) {
      throw disError('DIS.4200', `[records[${i}] exceeds ${MAX_RECORD_BYTES} bytes]`, 413);
    }
    total += data.length;
    if (total > MAX_REQUEST_DATA_BYTES) {
      throw disError('DIS.4200', `[records exceed ${MAX_REQUEST_DATA_BYTES} bytes]`, 413);
    }
    return { entry, data, partition: route(ctx, stream, entry, i) };
  });
}

function failure(code: string, message: string): PutRecordsResultEntry {
  return { error_code: code, error_message: message };
}

/** `POST /v2/{project_id}/records`: per-record results in request order inside a 200. */
export function handlePutRecords(ctx: EmulatorContext, input: OperationInput): Reply {
  ctx.store.stats.putRecordsCalls += 1;
  const body = parseJsonBody(input, Body);
  const stream = resolveStream(ctx, body.stream_name, body.stream_id);
  const entries = body.records ?? [];
  if (entries.length === 0) throw disError('DIS.4202');
  if (entries.length > ctx.maxRecordsPerRequest) {
    throw disError('DIS.4200', `[at most ${ctx.maxRecordsPerRequest} records per request]`);
  }
  const prepared = prepare(ctx, stream, entries);

  const reset = ctx.faults.takeReset();
  if (reset === 'before-store') return { kind: 'reset' };
  const now = ctx.clock();
  const { stats } = ctx.store;
  const records = prepared.map(({ entry, data, partition }): PutRecordsResultEntry => {
    const injected = ctx.faults.recordFailure(ctx.random);
    const throttled =
      ctx.faults.throttlingAll() || (ctx.throttling && !partition.bucket.tryTake(data.length, now));
    const failed =
      injected ?? (throttled ? { code: 'DIS.4303', message: disMessage('DIS.4303') } : undefined);
    if (failed !== undefined) {
      stats.recordsFailed[failed.code] = (stats.recordsFailed[failed.code] ?? 0) + 1;
      return failure(failed.code, failed.message);
    }
    partition.log.trim(now);
    const stored = partition.log.append({
      data,
      timestamp: now,
      ...(entry.partition_key === undefined ? {} : { partitionKey: entry.partition_key }),
      ...(entry.explicit_hash_key === undefined
        ? {}
        : { explicitHashKey: entry.explicit_hash_key }),
    });
    stats.recordsWritten += 1;
    return {
      partition_id: toShardId(partition.index),
      sequence_number: String(stored.sequenceNumber),
    };
  });
  if (reset === 'after-store') return { kind: 'reset' };
  const result: PutRecordsResult = {
    failed_record_count: records.filter((r) => r.error_code !== undefined).length,
    records,
  };
  return json(200, result);
}

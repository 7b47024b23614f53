import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../errors/app-error.ts';
import type { RedisClient } from '../redis/connect.ts';
import type { ReplicaAcks } from '../redis/replication.ts';
import { mayHaveBeenApplied, toStoreError } from '../redis/store-errors.ts';
import { toRecordFields, type SpoolRecord } from './entry.ts';
import { createSpoolKeys, isReceiptId } from './keys.ts';
import { parseReceiptHash, type Receipt } from './receipt.ts';
import { readSpoolStats, type SpoolStats } from './stats.ts';

export interface SpoolAppend {
  readonly disStream: string;
  readonly streamId?: string;
  /** The logical stream, shown in the receipt. */
  readonly logicalStream: string;
  /** Who may read the receipt (ingest names it: `principal:<id>` or `webhook:<source>`). */
  readonly owner: string;
  readonly records: readonly SpoolRecord[];
}

export interface Spool {
  /**
   * Appends atomically (all records or none) and returns the receipt id. A full spool is
   * `ERR_SPOOL_FULL` (503, Retry-After), an unreachable Redis `ERR_REDIS_UNAVAILABLE` (503).
   */
  append(input: SpoolAppend): Promise<{ receiptId: string }>;
  /** The receipt if `viewer` may see it (its owner, or an operator), else undefined. */
  receipt(id: string, viewer: { owner: string; operator: boolean }): Promise<Receipt | undefined>;
  /** Depth, pending count, oldest entry age and dead letters per DIS stream (for metrics). */
  stats(disStreams: readonly string[]): Promise<SpoolStats[]>;
}

export interface SpoolOptions {
  readonly redis: RedisClient;
  /**
   * A 202 is answered only once enough replicas confirmed the append (and the receipt); built on
   * the same connection as `redis`.
   */
  readonly acks: ReplicaAcks;
  /** Entries per DIS stream (sent entries are deleted, so this bounds the unsent ones). */
  readonly maxEntries: number;
  readonly receiptTtlS: number;
  readonly now: () => number;
  readonly randomId?: () => string;
  readonly keyPrefix?: string;
  /** Retry-After of a full spool (default 5 s): long enough for the forwarder to drain a batch. */
  readonly fullRetryAfterS?: number;
}

// Capacity check and XADDs in one script, so two concurrent appends cannot both squeeze past the
// bound and a rejected append leaves nothing behind. Nothing is ever trimmed: an entry leaves the
// stream only when the forwarder has written or dead-lettered it. KEYS[2] (the receipt) is given
// only on a standalone Redis; in Cluster it lives in another slot and is created beforehand.
// ARGV: maxEntries, count, receiptId, owner, logicalStream, acceptedAt, ttlMs, then per record
// the number of field pairs followed by the pairs. Receipt field names match receipt.ts.
const APPEND = {
  name: 'gwSpoolAppendV1',
  lua: `
local n = tonumber(ARGV[2])
local depth = redis.call('XLEN', KEYS[1])
if depth + n > tonumber(ARGV[1]) then return {0, depth} end
local i = 8
for r = 0, n - 1 do
  local k = tonumber(ARGV[i])
  local fields = {}
  for j = 1, k * 2 do fields[j] = ARGV[i + j] end
  fields[#fields + 1] = 'receipt'
  fields[#fields + 1] = ARGV[3]
  fields[#fields + 1] = 'index'
  fields[#fields + 1] = tostring(r)
  i = i + k * 2 + 1
  redis.call('XADD', KEYS[1], '*', unpack(fields))
end
if KEYS[2] then
  redis.call('HSET', KEYS[2], 'owner', ARGV[4], 'stream', ARGV[5], 'count', n, 'accepted_at', ARGV[6])
  redis.call('PEXPIRE', KEYS[2], ARGV[7])
end
return {1, depth + n}
`,
};

const CREATE_RECEIPT = {
  name: 'gwSpoolReceiptCreateV1',
  lua: `
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'stream', ARGV[2], 'count', ARGV[3], 'accepted_at', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
`,
};

const AppendReply = z.tuple([z.union([z.literal(0), z.literal(1)]), z.number()]);

function unavailable(error: unknown): AppError {
  return toStoreError(error, 'The records');
}

/**
 * A refused append, and whether its entries may be in the spool anyway (an append a replica did
 * not confirm is on the primary; a timed-out one may have run). Only a certain "no" lets an
 * Idempotency-Key or a webhook claim go.
 */
export class SpoolAppendError extends AppError {
  readonly mayHaveWritten: boolean;

  constructor(error: AppError, mayHaveWritten: boolean) {
    super(error.code, {
      detail: error.detail,
      headers: error.headers,
      cause: error.cause ?? error,
    });
    this.name = 'SpoolAppendError';
    this.mayHaveWritten = mayHaveWritten;
  }
}

export function createSpool(options: SpoolOptions): Spool {
  const { redis, now } = options;
  const keys = createSpoolKeys(options.keyPrefix);
  const randomId = options.randomId ?? randomUUID;
  const ttlMs = Math.max(1, Math.round(options.receiptTtlS * 1000));
  const fullRetryAfterS = options.fullRetryAfterS ?? 5;
  const appendScript = options.acks.script(APPEND, 'spool_append');
  const createReceipt = options.acks.script(CREATE_RECEIPT, 'receipt');
  // ioredis knows its own topology; a Cluster client refuses multi-slot scripts.
  const cluster = redis.isCluster;

  const full = (): AppError =>
    new AppError('ERR_SPOOL_FULL', {
      detail: 'Too many records are waiting to be written to DIS; retry later.',
      headers: { 'Retry-After': String(fullRetryAfterS) },
    });

  return {
    async append(input) {
      if (input.records.length === 0) throw new RangeError('append needs at least one record');
      const receiptId = randomId();
      const receiptKey = keys.receipt(receiptId);
      const streamKey = keys.stream(input.disStream);
      const acceptedAt = now();
      const args: (string | number | Buffer)[] = [
        options.maxEntries,
        input.records.length,
        receiptId,
        input.owner,
        input.logicalStream,
        acceptedAt,
        ttlMs,
      ];
      for (const record of input.records) {
        const fields = toRecordFields(record);
        args.push(fields.length / 2, ...fields);
      }
      let appending = false;
      try {
        if (cluster) {
          // Receipt first, replicated before the entries exist: an entry must never exist without
          // the receipt it reports to. If the append then fails, the receipt is removed (or
          // expires): the caller got a 503 and never saw its id. (Entries whose append was not
          // confirmed by a replica may still be delivered; settling skips a missing receipt.)
          await createReceipt(
            [receiptKey],
            [input.owner, input.logicalStream, input.records.length, acceptedAt, ttlMs],
          );
        }
        appending = true;
        const reply = AppendReply.parse(
          await appendScript(cluster ? [streamKey] : [streamKey, receiptKey], args),
        );
        if (reply[0] === 0) {
          appending = false;
          throw full();
        }
        return { receiptId };
      } catch (error) {
        if (cluster) await redis.del(receiptKey).catch(() => 0);
        throw new SpoolAppendError(unavailable(error), appending && mayHaveBeenApplied(error));
      }
    },

    async receipt(id, viewer) {
      if (!isReceiptId(id)) return undefined;
      let hash: Record<string, string>;
      try {
        hash = await redis.hgetall(keys.receipt(id));
      } catch (error) {
        throw unavailable(error);
      }
      const stored = parseReceiptHash(id, hash);
      if (stored === undefined) return undefined;
      if (!viewer.operator && stored.owner !== viewer.owner) return undefined;
      return stored.receipt;
    },

    stats: (disStreams) => readSpoolStats(redis, keys, disStreams, now),
  };
}

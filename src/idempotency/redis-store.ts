import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { RedisClient } from '../redis/connect.ts';
import type { ReplicaAcks } from '../redis/replication.ts';
import { toStoreError } from '../redis/store-errors.ts';
import { defineScript } from '../redis/script.ts';
import { DEFAULT_IDEMPOTENCY_KEY_PREFIX, toIdempotencyRedisKey } from './key.ts';
import { IN_PROGRESS_RETRY_AFTER_S } from './types.ts';
import type { BeginResult, IdempotencyStore, StoredAnswer } from './types.ts';

export interface RedisIdempotencyStoreOptions {
  readonly redis: RedisClient;
  /** A stored verdict counts only once enough replicas confirmed it (same connection as redis). */
  readonly acks: ReplicaAcks;
  /** How long a completed verdict is replayed (config; default 24 h upstream). */
  readonly ttlMs: number;
  readonly keyPrefix?: string;
  /** Lock owner tokens (default randomUUID). */
  readonly randomToken?: () => string;
}

// One hash per key: state (in-progress | completed), fp (request fingerprint), owner (lock token,
// in-progress only), answer (JSON, completed only). The key's TTL is the lock TTL while in
// progress and the verdict TTL once completed.
const BEGIN = {
  name: 'gwIdempotencyBeginV1',
  lua: `
local fp = redis.call('HGET', KEYS[1], 'fp')
if not fp then
  redis.call('HSET', KEYS[1], 'state', 'in-progress', 'fp', ARGV[1], 'owner', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'started'}
end
if fp ~= ARGV[1] then return {'mismatch'} end
if redis.call('HGET', KEYS[1], 'state') == 'completed' then
  return {'replay', redis.call('HGET', KEYS[1], 'answer')}
end
return {'in-progress'}
`,
};

// The holder stores its verdict. A lock that expired and was taken by another request is not
// overwritten; a lock that expired with nobody taking it is (the write to DIS did happen, and
// storing it spares the caller's retry a duplicate write).
const COMPLETE = {
  name: 'gwIdempotencyCompleteV1',
  lua: `
local state = redis.call('HGET', KEYS[1], 'state')
if state and (state ~= 'in-progress' or redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1]) then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'completed', 'fp', ARGV[2], 'answer', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`,
};

const RELEASE = {
  name: 'gwIdempotencyReleaseV1',
  lua: `
if redis.call('HGET', KEYS[1], 'state') == 'in-progress'
  and redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`,
};

const BeginReply = z.union([
  z.tuple([z.literal('started')]),
  z.tuple([z.literal('mismatch')]),
  z.tuple([z.literal('in-progress')]),
  z.tuple([z.literal('replay'), z.string()]),
]);

export const StoredAnswerSchema = z.object({
  status: z.number().int(),
  headers: z.record(z.string(), z.string()),
  body: z.string(),
});

/** Idempotency needs Redis: there is no fallback, a failure is a 503 the caller may retry. */
export function createRedisIdempotencyStore(
  options: RedisIdempotencyStoreOptions,
): IdempotencyStore {
  const prefix = options.keyPrefix ?? DEFAULT_IDEMPOTENCY_KEY_PREFIX;
  const randomToken = options.randomToken ?? randomUUID;
  const begin = defineScript(options.redis, BEGIN);
  const complete = options.acks.script(COMPLETE, 'idempotency_verdict');
  const release = defineScript(options.redis, RELEASE);

  return {
    async begin(input): Promise<BeginResult> {
      const key = toIdempotencyRedisKey(prefix, input.principal, input.stream, input.key);
      const owner = randomToken();
      const reply = BeginReply.parse(
        await unavailableOnError(
          begin([key], [input.fingerprint, owner, Math.max(1, Math.ceil(input.lockTtlMs))]),
        ),
      );
      switch (reply[0]) {
        case 'started':
          return { kind: 'started', handle: { key, owner, fingerprint: input.fingerprint } };
        case 'mismatch':
          return { kind: 'mismatch' };
        case 'in-progress':
          return { kind: 'in-progress', retryAfterS: IN_PROGRESS_RETRY_AFTER_S };
        case 'replay':
          return { kind: 'replay', answer: StoredAnswerSchema.parse(JSON.parse(reply[1])) };
      }
    },
    async complete(handle, answer: StoredAnswer) {
      await unavailableOnError(
        complete(
          [handle.key],
          [handle.owner, handle.fingerprint, JSON.stringify(answer), Math.ceil(options.ttlMs)],
        ),
      );
    },
    async release(handle) {
      await unavailableOnError(release([handle.key], [handle.owner]));
    },
  };
}

async function unavailableOnError<T>(pending: Promise<T>): Promise<T> {
  try {
    return await pending;
  } catch (error) {
    throw toStoreError(error, 'This Idempotency-Key');
  }
}

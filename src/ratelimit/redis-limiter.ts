import { CodedError } from '../errors/coded-error.ts';
import { AppError } from '../errors/app-error.ts';
import type { RedisClient } from '../redis/connect.ts';
import { defineScript } from '../redis/script.ts';
import type { RunScript } from '../redis/script.ts';
import { DEFAULT_KEY_PREFIX, toBuckets } from './buckets.ts';
import type { Bucket } from './buckets.ts';
import { toDecision } from './decision.ts';
import type { BucketState, Evaluation } from './gcra.ts';
import { CONSUME_SCRIPT, REFUND_SCRIPT } from './lua.ts';
import type { RateLimitDecision, RateLimitPolicy, RateLimiter } from './types.ts';

export interface RedisRateLimiterOptions {
  readonly redis: RedisClient;
  readonly policy: RateLimitPolicy;
  /** fail-open: decide with `fallback` while Redis is away; fail-closed: 503. */
  readonly onError: 'fail-open' | 'fail-closed';
  readonly fallback: RateLimiter;
  readonly now: () => number;
  readonly keyPrefix?: string;
  /**
   * After a Redis error, skip Redis for this long (default 250 ms). A disconnected client fails
   * at once anyway; this spares every request the full command timeout while Redis hangs.
   */
  readonly retryRedisAfterMs?: number;
  readonly events?: {
    /** Each decision made without Redis (fail-open), with the error that caused it. */
    fallback?(error: unknown): void;
    decision?(decision: RateLimitDecision): void;
  };
}

/** The script's reply: integers only. Checked by hand: a zod parse per request was 2 % of CPU. */
function consumeReply(value: unknown): number[] {
  if (!Array.isArray(value) || !value.every((n) => Number.isSafeInteger(n)))
    throw new CodedError('ERR_REDIS_BAD_REPLY', 'rate limit script answered something else');
  return value as number[];
}

/**
 * Limits shared by every gateway instance: one Lua call per request checks all the request's
 * buckets against Redis's clock and consumes from all of them or none.
 *
 * Redis Cluster allows one slot per script, and principal and stream buckets hash to different
 * slots, so there it takes two calls: the principal's buckets first, then the stream's; if the
 * stream denies, a third call refunds what the principal's buckets gave. Between those calls a
 * concurrent request may see the principal's buckets briefly lower than they end up: it can be
 * denied early, never admitted beyond the limit.
 */
export function createRedisRateLimiter(options: RedisRateLimiterOptions): RateLimiter {
  const keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  const retryRedisAfterMs = options.retryRedisAfterMs ?? 250;
  const consume = defineScript(options.redis, CONSUME_SCRIPT);
  const refund = defineScript(options.redis, REFUND_SCRIPT);
  const cluster = options.redis.isCluster;
  let skipRedisUntil = Number.NEGATIVE_INFINITY;
  let lastError: unknown;

  const emit = (decision: RateLimitDecision): RateLimitDecision => {
    options.events?.decision?.(decision);
    return decision;
  };

  const withoutRedis = async (
    error: unknown,
    input: Parameters<RateLimiter['check']>[0],
  ): Promise<RateLimitDecision> => {
    if (options.onError === 'fail-closed') {
      throw new AppError('ERR_REDIS_UNAVAILABLE', {
        detail: 'Rate limits cannot be checked right now.',
        cause: error,
        headers: { 'Retry-After': '1' },
      });
    }
    options.events?.fallback?.(error);
    return emit(await options.fallback.check(input));
  };

  return {
    async check(input) {
      if (options.now() < skipRedisUntil) return withoutRedis(lastError, input);
      const buckets = toBuckets(options.policy, input, keyPrefix);
      let evaluation: Evaluation;
      try {
        evaluation = cluster
          ? await checkInTwoSlots(consume, refund, buckets)
          : await checkGroup(consume, buckets, 0, buckets.length);
      } catch (error) {
        lastError = error;
        skipRedisUntil = options.now() + retryRedisAfterMs;
        return withoutRedis(error, input);
      }
      return emit(toDecision(buckets, evaluation, 'redis'));
    },
  };
}

async function checkInTwoSlots(
  consume: RunScript,
  refund: RunScript,
  buckets: readonly Bucket[],
): Promise<Evaluation> {
  const split = buckets.findIndex((bucket) => bucket.scope === 'stream');
  if (split === -1) return checkGroup(consume, buckets, 0, buckets.length);
  const first = await checkGroup(consume, buckets, 0, split);
  if (!first.allowed) return first;
  const taken = buckets.slice(0, split);
  const giveBack = () =>
    refund(
      taken.map((bucket) => bucket.key),
      taken.flatMap((bucket) => [bucket.limit.ratePerS, bucket.cost]),
    );
  let second: Evaluation;
  try {
    second = await checkGroup(consume, buckets, split, buckets.length);
  } catch (error) {
    // Best effort: the stream's node may be the one that is down.
    await giveBack().catch(() => undefined);
    throw error;
  }
  if (second.allowed) return merge(first, second);
  await giveBack();
  // The principal's states are whatever the refund restored: report the stream's only.
  return second;
}

function merge(first: Evaluation, second: Evaluation): Evaluation {
  return {
    allowed: true,
    limitedBy: -1,
    retryAfterMs: 0,
    states: first.states.map((state, i) => state ?? second.states[i]),
  };
}

/** Runs the consume script over buckets[from, to); the evaluation is indexed like `buckets`. */
async function checkGroup(
  consume: RunScript,
  buckets: readonly Bucket[],
  from: number,
  to: number,
): Promise<Evaluation> {
  const group = buckets.slice(from, to);
  const reply = consumeReply(
    await consume(
      group.map((bucket) => bucket.key),
      group.flatMap((bucket) => [bucket.limit.ratePerS, bucket.limit.burst, bucket.cost]),
    ),
  );
  const [allowed, limitedBy, retryAfterMs] = reply;
  if (allowed === undefined || limitedBy === undefined || retryAfterMs === undefined) {
    throw new CodedError('ERR_REDIS_BAD_REPLY', 'rate limit script answered too little');
  }
  if (reply.length !== 3 + 2 * group.length)
    throw new CodedError('ERR_REDIS_BAD_REPLY', 'rate limit script answer mismatch');
  const states: (BucketState | undefined)[] = buckets.map(() => undefined);
  group.forEach((_, i) => {
    states[from + i] = { remaining: reply[3 + 2 * i] ?? 0, resetMs: reply[4 + 2 * i] ?? 0 };
  });
  return {
    allowed: allowed === 1,
    limitedBy: limitedBy === 0 ? -1 : from + limitedBy - 1,
    retryAfterMs,
    states,
  };
}

import { randomUUID } from 'node:crypto';
import { createMemoryRateLimiter } from '../../src/ratelimit/memory-limiter.ts';
import { createRateLimitPolicy, type RateLimitPolicyConfig } from '../../src/ratelimit/policy.ts';
import { createRedisRateLimiter } from '../../src/ratelimit/redis-limiter.ts';
import type { RateLimiter } from '../../src/ratelimit/types.ts';
import type { RedisClient } from '../../src/redis/connect.ts';

/** Default limits no test reaches: a test lowers only the bucket it is about. */
export const GENEROUS = { requestsPerS: 1e6, burst: 1e6, recordsPerS: 1e9, bytesPerS: 1e12 };

export interface LimiterUnderTest {
  readonly limiter: RateLimiter;
  /** The limiter's own key prefix, so tests on one Redis never share a bucket. */
  readonly keyPrefix: string;
}

/**
 * A Redis rate limiter over GENEROUS defaults, no principal or stream overrides unless `config`
 * sets them. Fail-closed, so a decision that did not come from Redis fails the test instead of
 * quietly coming from the memory fallback.
 */
export function redisLimiterUnderTest(
  redis: RedisClient,
  config: Partial<RateLimitPolicyConfig> = {},
): LimiterUnderTest {
  const keyPrefix = `gw:rl:t-${randomUUID()}`;
  const policy = createRateLimitPolicy({
    default: GENEROUS,
    principals: {},
    streams: {},
    ...config,
  });
  const limiter = createRedisRateLimiter({
    redis,
    policy,
    onError: 'fail-closed',
    fallback: createMemoryRateLimiter({ policy, now: Date.now }),
    now: Date.now,
    keyPrefix,
  });
  return { limiter, keyPrefix };
}

import { DEFAULT_KEY_PREFIX, toBuckets } from './buckets.ts';
import { toDecision } from './decision.ts';
import { evaluateGcra } from './gcra.ts';
import type { RateLimitPolicy, RateLimiter } from './types.ts';

export interface MemoryRateLimiterOptions {
  readonly policy: RateLimitPolicy;
  readonly now: () => number;
  /** Bound on remembered buckets (default 10 000); past it, full buckets go first, then the oldest. */
  readonly maxKeys?: number;
}

/**
 * The same GCRA as the Redis script, in this process only: the fallback while Redis is away and
 * the store of dev mode. Each instance counts on its own, so N instances admit up to N times the
 * limit while they use it. Evicting a bucket that is not yet full forgets its debt: the bound is
 * on memory, and the eviction order (least recently used) makes that land on idle callers.
 */
export function createMemoryRateLimiter(options: MemoryRateLimiterOptions): RateLimiter {
  const maxKeys = options.maxKeys ?? 10_000;
  // Insertion order = least recently updated first; updates re-insert.
  const tats = new Map<string, number>();

  const evict = (now: number): void => {
    if (tats.size <= maxKeys) return;
    for (const [key, tat] of tats) {
      if (tat <= now) tats.delete(key);
    }
    for (const key of tats.keys()) {
      if (tats.size <= maxKeys) break;
      tats.delete(key);
    }
  };

  return {
    check(input) {
      const now = options.now();
      const buckets = toBuckets(options.policy, input, DEFAULT_KEY_PREFIX);
      const result = evaluateGcra(
        buckets,
        buckets.map((bucket) => tats.get(bucket.key)),
        now,
      );
      if (result.evaluation.allowed) {
        buckets.forEach((bucket, i) => {
          const tat = result.tats[i];
          tats.delete(bucket.key);
          if (tat !== undefined && tat > now) tats.set(bucket.key, tat);
        });
        evict(now);
      }
      return Promise.resolve(toDecision(buckets, result.evaluation, 'memory'));
    },
  };
}

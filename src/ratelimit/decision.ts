import type { Bucket } from './buckets.ts';
import type { Evaluation } from './gcra.ts';
import { toRateLimitHeaders } from './headers.ts';
import type { Closure, RateLimitDecision } from './types.ts';

export function toDecision(
  buckets: readonly Bucket[],
  evaluation: Evaluation,
  source: RateLimitDecision['source'],
): RateLimitDecision {
  const headers = toRateLimitHeaders(buckets, evaluation);
  const denied = evaluation.allowed ? undefined : buckets[evaluation.limitedBy];
  return {
    closed: closures(buckets, evaluation),
    allowed: evaluation.allowed,
    retryAfterMs: evaluation.allowed ? 0 : Math.max(1, evaluation.retryAfterMs),
    headers,
    source,
    ...(denied === undefined ? {} : { limitedBy: denied.name }),
  };
}

/**
 * Per scope, the bucket that takes longest until one unit passes (GCRA: one unit passes once
 * TAT − now ≤ (burst − 1) · T). resetMs is TAT − now rounded up, so 1 ms comes off: the gate may
 * let through a request Redis then refuses, never refuse one Redis would have let through.
 */
function closures(
  buckets: readonly Bucket[],
  evaluation: Evaluation,
): { principal?: Closure; stream?: Closure } {
  const closed: { principal?: Closure; stream?: Closure } = {};
  buckets.forEach((bucket, i) => {
    const state = evaluation.states[i];
    if (state === undefined) return;
    const interval = 1000 / bucket.limit.ratePerS;
    const forMs = Math.max(0, state.resetMs - 1 - (bucket.limit.burst - 1) * interval);
    const worst = closed[bucket.scope];
    if (worst === undefined || forMs > worst.forMs)
      closed[bucket.scope] = { forMs, bucket: bucket.name };
  });
  return closed;
}

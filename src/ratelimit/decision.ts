import type { Bucket } from './buckets.ts';
import type { Evaluation } from './gcra.ts';
import { toRateLimitHeaders } from './headers.ts';
import type { RateLimitDecision } from './types.ts';

export function toDecision(
  buckets: readonly Bucket[],
  evaluation: Evaluation,
  source: RateLimitDecision['source'],
): RateLimitDecision {
  const headers = toRateLimitHeaders(buckets, evaluation);
  const denied = evaluation.allowed ? undefined : buckets[evaluation.limitedBy];
  return {
    allowed: evaluation.allowed,
    retryAfterMs: evaluation.allowed ? 0 : Math.max(1, evaluation.retryAfterMs),
    headers,
    source,
    ...(denied === undefined ? {} : { limitedBy: denied.name }),
  };
}

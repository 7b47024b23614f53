import type { Bucket } from './buckets.ts';
import type { Evaluation } from './gcra.ts';
import type { BucketName } from './types.ts';

// draft-ietf-httpapi-ratelimit-headers-11: both fields are Structured Field Lists whose items are
// a String naming the policy with parameters (q quota, w window in s, qu unit; r remaining, t
// seconds until reset). Records are not a registered unit, so they say `qu="records"`; the burst
// goes in a vendor-prefixed parameter as the draft recommends for service-specific data.
const UNITS: Readonly<Record<BucketName, string>> = {
  'principal-requests': 'request',
  'principal-records': 'records',
  'principal-bytes': 'content-bytes',
  'stream-records': 'records',
  'stream-bytes': 'content-bytes',
};

export function toPolicyHeader(buckets: readonly Bucket[]): string {
  return buckets
    .map((bucket) => {
      const { ratePerS, burst } = bucket.limit;
      // The window is one second unless the rate is below one unit a second (w is an integer).
      const window = ratePerS >= 1 ? 1 : Math.ceil(1 / ratePerS);
      const quota = Math.max(1, Math.floor(ratePerS * window));
      return `"${bucket.name}";q=${quota};w=${window};qu="${UNITS[bucket.name]}";gw-burst=${burst}`;
    })
    .join(', ');
}

/**
 * The most constrained bucket: the one that denied, else the one with the smallest share of its
 * burst left. On a denial `t` is the same instant as Retry-After, as the draft asks.
 */
export function toLimitHeader(buckets: readonly Bucket[], evaluation: Evaluation): string {
  const denied = buckets[evaluation.limitedBy];
  if (!evaluation.allowed && denied !== undefined) {
    return `"${denied.name}";r=0;t=${Math.ceil(evaluation.retryAfterMs / 1000)}`;
  }
  let chosen: { name: BucketName; remaining: number; resetMs: number; share: number } | undefined;
  buckets.forEach((bucket, i) => {
    const state = evaluation.states[i];
    if (state === undefined) return;
    const share = state.remaining / bucket.limit.burst;
    if (chosen === undefined || share < chosen.share) {
      chosen = { name: bucket.name, remaining: state.remaining, resetMs: state.resetMs, share };
    }
  });
  if (chosen === undefined) return '';
  return `"${chosen.name}";r=${chosen.remaining};t=${Math.ceil(chosen.resetMs / 1000)}`;
}

export function toRateLimitHeaders(
  buckets: readonly Bucket[],
  evaluation: Evaluation,
): Record<string, string> {
  return {
    'RateLimit-Policy': toPolicyHeader(buckets),
    RateLimit: toLimitHeader(buckets, evaluation),
  };
}

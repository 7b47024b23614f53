import type { Bucket } from './buckets.ts';

/**
 * GCRA, the algorithm shared by the Redis script and the memory limiter (lua.ts mirrors this file;
 * change both together). A bucket's state is its theoretical arrival time (TAT, ms): the bucket
 * is full when TAT <= now, and each unit pushes TAT forward by 1000 / rate ms. A request passes a
 * bucket when TAT + cost·T − burst·T <= now.
 *
 * A cost above the burst could never pass, so it is admitted only when the bucket is full and
 * then charged in full: the bucket goes into debt and later requests wait until it is repaid. The
 * sustained rate holds, and a large but legal request (a 4 MiB batch on a 1 MiB/s stream) is
 * delayed rather than refused for ever.
 */

/** Float slack (ms) so that the burst-th request is not refused by rounding. */
export const GCRA_EPSILON_MS = 0.01;

export interface BucketState {
  /** Units that could still be taken now. */
  readonly remaining: number;
  /** Ms until the bucket is full again. */
  readonly resetMs: number;
}

export interface Evaluation {
  readonly allowed: boolean;
  /** Index of the bucket that denied with the longest wait; -1 when allowed. */
  readonly limitedBy: number;
  readonly retryAfterMs: number;
  /** Per bucket, after the decision; undefined for buckets that were not evaluated. */
  readonly states: readonly (BucketState | undefined)[];
}

export interface GcraResult {
  readonly evaluation: Evaluation;
  /** New TAT per bucket when allowed (to store); the unchanged base otherwise. */
  readonly tats: readonly number[];
}

export function evaluateGcra(
  buckets: readonly Bucket[],
  tats: readonly (number | undefined)[],
  now: number,
): GcraResult {
  let worst = -1;
  let worstWait = 0;
  const bases = buckets.map((bucket, i) => {
    const tat = tats[i];
    const base = tat !== undefined && tat > now ? tat : now;
    const interval = 1000 / bucket.limit.ratePerS;
    const wait =
      base +
      Math.min(bucket.cost, bucket.limit.burst) * interval -
      bucket.limit.burst * interval -
      now;
    if (wait > GCRA_EPSILON_MS && wait > worstWait) {
      worst = i;
      worstWait = wait;
    }
    return base;
  });
  const allowed = worst === -1;
  const next = buckets.map((bucket, i) => {
    const base = bases[i] ?? now;
    return allowed ? base + (bucket.cost * 1000) / bucket.limit.ratePerS : base;
  });
  return {
    evaluation: {
      allowed,
      limitedBy: worst,
      retryAfterMs: allowed ? 0 : Math.ceil(worstWait),
      states: buckets.map((bucket, i) => stateOf(bucket, next[i] ?? now, now)),
    },
    tats: next,
  };
}

function stateOf(bucket: Bucket, tat: number, now: number): BucketState {
  const interval = 1000 / bucket.limit.ratePerS;
  const used = Math.max(0, tat - now);
  const remaining = Math.floor((bucket.limit.burst * interval - used) / interval + 1e-6);
  return { remaining: Math.max(0, remaining), resetMs: Math.ceil(used) };
}

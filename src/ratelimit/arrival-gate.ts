import { DEFAULT_KEY_PREFIX, toBuckets } from './buckets.ts';
import { toPolicyHeader } from './headers.ts';
import type {
  BucketName,
  Closure,
  RateLimitDecision,
  RateLimitInput,
  RateLimitPolicy,
  RateLimiter,
} from './types.ts';

export interface ArrivalGateOptions {
  readonly policy: RateLimitPolicy;
  readonly now: () => number;
  /** Bound on remembered principals and streams (default 10 000); expired entries go first. */
  readonly maxKeys?: number;
}

export interface ArrivalGate {
  /** The limiter that charges a parsed request; its decisions teach the gate. */
  readonly limiter: RateLimiter;
  /**
   * A 429 decision when the last decision seen for this principal or stream left it closed to
   * every request until later; undefined when the request must go on to be charged.
   */
  refusal(principal: string, stream: string): RateLimitDecision | undefined;
}

interface Closed {
  readonly until: number;
  readonly bucket: BucketName;
}

/**
 * Refuses, on arrival, the requests this instance already knows cannot pass: once a decision
 * shows a principal's or a stream's buckets closed to even one unit (one request, one record, one
 * byte), every request of it is refused until they reopen, before its body is read and without a
 * Redis call. Each instance learns from its own decisions, so a caller over its limit costs each
 * instance one charged request per window, whatever it sends. The gate only refuses what the
 * shared limiter would refuse too: another instance's charges can make a bucket close sooner than
 * this instance knows (then Redis refuses), never reopen sooner.
 */
export function createArrivalGate(inner: RateLimiter, options: ArrivalGateOptions): ArrivalGate {
  const maxKeys = options.maxKeys ?? 10_000;
  const closed = new Map<string, Closed>();

  const remember = (key: string, closure: Closure | undefined, now: number): void => {
    if (closure === undefined) return;
    closed.delete(key);
    if (closure.forMs <= 0) return;
    closed.set(key, { until: now + closure.forMs, bucket: closure.bucket });
    if (closed.size <= maxKeys) return;
    for (const [k, entry] of closed) if (entry.until <= now) closed.delete(k);
    for (const k of closed.keys()) {
      if (closed.size <= maxKeys) break;
      closed.delete(k);
    }
  };

  const learn = (input: RateLimitInput, decision: RateLimitDecision): void => {
    const { closed: closures } = decision;
    if (closures === undefined) return;
    const now = options.now();
    remember(`p:${input.principal}`, closures.principal, now);
    remember(`s:${input.stream}`, closures.stream, now);
  };

  const openIn = (key: string, now: number): Closed | undefined => {
    const entry = closed.get(key);
    if (entry === undefined) return undefined;
    if (entry.until > now) return entry;
    closed.delete(key);
    return undefined;
  };

  return {
    limiter: {
      async check(input) {
        const decision = await inner.check(input);
        learn(input, decision);
        return decision;
      },
    },
    refusal(principal, stream) {
      if (closed.size === 0) return undefined;
      const now = options.now();
      const byPrincipal = openIn(`p:${principal}`, now);
      const byStream = openIn(`s:${stream}`, now);
      const entry =
        byPrincipal === undefined || (byStream !== undefined && byStream.until > byPrincipal.until)
          ? byStream
          : byPrincipal;
      if (entry === undefined) return undefined;
      const retryAfterMs = Math.max(1, Math.ceil(entry.until - now));
      const buckets = toBuckets(
        options.policy,
        { principal, stream, records: 1, bytes: 1 },
        DEFAULT_KEY_PREFIX,
      );
      return {
        allowed: false,
        retryAfterMs,
        source: 'arrival',
        limitedBy: entry.bucket,
        headers: {
          'RateLimit-Policy': toPolicyHeader(buckets),
          RateLimit: `"${entry.bucket}";r=0;t=${Math.ceil(retryAfterMs / 1000)}`,
        },
      };
    },
  };
}

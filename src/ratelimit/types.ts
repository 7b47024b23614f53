/** A sustained rate plus a burst capacity (GCRA: at most `burst` units at once, refilled at `ratePerS`). */
export interface Limit {
  readonly ratePerS: number;
  readonly burst: number;
}

export interface RateLimitInput {
  readonly principal: string;
  /** Logical stream name (already checked against the stream table). */
  readonly stream: string;
  readonly records: number;
  /** Raw (decoded) bytes of the records, as DIS counts them. */
  readonly bytes: number;
  /**
   * Charge the principal's buckets only: a request refused before it could reach DIS (malformed,
   * too large) costs its caller, not the stream's DIS capacity.
   */
  readonly principalOnly?: boolean;
}

export interface PrincipalLimits {
  readonly requests: Limit;
  readonly records: Limit;
  readonly bytes: Limit;
}

export interface StreamLimits {
  readonly records: Limit;
  readonly bytes: Limit;
}

export interface RateLimitPolicy {
  forPrincipal(principal: string): PrincipalLimits;
  forStream(stream: string): StreamLimits;
}

export type BucketName =
  | 'principal-requests'
  | 'principal-records'
  | 'principal-bytes'
  | 'stream-records'
  | 'stream-bytes';

export interface RateLimitDecision {
  readonly allowed: boolean;
  /** 0 when allowed; otherwise how long until this same request would pass. */
  readonly retryAfterMs: number;
  /** `RateLimit-Policy` and `RateLimit` (IETF draft), for every answer. `Retry-After` is the route's. */
  readonly headers: Readonly<Record<string, string>>;
  /** `arrival`: refused by the instance's arrival gate, without asking Redis (arrival-gate.ts). */
  readonly source: 'redis' | 'memory' | 'arrival';
  /** The bucket that denied (the one needing the longest wait when several did). */
  readonly limitedBy?: BucketName;
  /**
   * Per scope, whether this decision left the principal's or the stream's buckets closed to every
   * request (each needs at least one unit of every bucket), for how long (0: open now) and by which
   * bucket: what the arrival gate learns from. A scope is absent when none of its buckets was
   * evaluated.
   */
  readonly closed?: { readonly principal?: Closure; readonly stream?: Closure };
}

export interface RateLimiter {
  check(input: RateLimitInput): Promise<RateLimitDecision>;
}

export interface Closure {
  readonly forMs: number;
  readonly bucket: BucketName;
}

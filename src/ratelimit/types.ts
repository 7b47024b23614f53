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
  readonly source: 'redis' | 'memory';
  /** The bucket that denied (the one needing the longest wait when several did). */
  readonly limitedBy?: BucketName;
}

export interface RateLimiter {
  check(input: RateLimitInput): Promise<RateLimitDecision>;
}

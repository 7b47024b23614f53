import type { DisError, RequestFailure } from './errors.ts';
import { DisHttpError, toRequestFailure } from './errors.ts';

// What DIS lets a client retry (dis-api.md §3.3, design.md §5) and how long to wait between attempts.
// What to do after each PutRecords attempt is decided in retry-decision.ts.

export interface BackoffPolicy {
  readonly initialDelayMs: number;
  readonly multiplier: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = {
  initialDelayMs: 50,
  multiplier: 2,
  maxDelayMs: 2000,
};

/** Reported for every attempt that leaves something to retry. */
export interface DisRetryEvent {
  readonly operation: string;
  readonly kind: 'request' | 'records';
  readonly records: number;
}

/**
 * "Full jitter": a uniform draw from [0, min(cap, initial × multiplier^attempt)], so that callers
 * throttled together do not come back together. `attempt` counts from 0.
 */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number): number {
  const ceiling = Math.min(
    policy.maxDelayMs,
    policy.initialDelayMs * policy.multiplier ** Math.max(0, attempt),
  );
  return Math.floor(random() * ceiling);
}

const RETRYABLE_RECORD_CODE = /^DIS\.(4303|5\d{3})$/;

/** Per-record failures worth resending: throttling (`DIS.4303`) and server-side `DIS.5xxx`. */
export function isRetryableRecordCode(code: string): boolean {
  return RETRYABLE_RECORD_CODE.test(code);
}

/**
 * Whole-request failures worth resending with a fresh signature: connection errors, timeouts, 5xx,
 * 429, and a request-level `DIS.4303`. Never 401, 403, 413 or any other 4xx.
 */
export function isRetryableRequestFailure(failure: RequestFailure): boolean {
  if (failure.status !== undefined) {
    if (failure.status >= 500 || failure.status === 429) return true;
    return failure.status === 400 && failure.code === 'DIS.4303';
  }
  return (
    failure.kind === 'ERR_DIS_UNREACHABLE' ||
    failure.kind === 'ERR_DIS_CONNECTION_LOST' ||
    failure.kind === 'ERR_DIS_TIMEOUT'
  );
}

export function isRetryableRequestError(error: DisError): boolean {
  return isRetryableRequestFailure(toRequestFailure(error));
}

const AUTH_FAILURE_CODES = new Set(['APIGW.0301', 'APIG.0301', 'DIS.4309']);

/**
 * Failures that count toward opening the circuit breaker: DIS locks an AK after 5 bad signatures in a
 * row and blacklists IPs that keep failing (`DIS.4309`).
 */
export function isAuthFailure(error: DisError): boolean {
  if (!(error instanceof DisHttpError)) return false;
  return (
    error.status === 401 || (error.disCode !== undefined && AUTH_FAILURE_CODES.has(error.disCode))
  );
}

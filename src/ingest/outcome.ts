import type { PutRecordsOutcome } from '../dis/client.ts';
import type { RecordVerdict } from '../dis/verdicts.ts';

// How a PutRecords outcome maps to one answer for the whole request (design.md §3): per-record truth
// whenever anything was written or DIS judged the records; a whole-request error only when nothing was
// written and the reason lies with DIS or the path to it, not with the records.
//
// "Nothing was written" must be certain before it is said: a request that went out and got no
// usable answer (a timeout, a connection lost mid-way, an answer that could not be read) may have
// been applied by DIS. Those outcomes are `unknown`, never `unavailable`: an idempotency key stays
// locked for them and their records count as possible duplicates.

export type OutcomeClass =
  | { readonly kind: 'written' }
  | { readonly kind: 'partial' }
  /** DIS unreachable, failing with 5xx/429, breaker open, no IAM token: nothing was written. */
  | { readonly kind: 'unavailable'; readonly retryAfterMs: number }
  /** Some records may have been written: no answer in time, or one that could not be read. */
  | { readonly kind: 'unknown'; readonly reason: 'no-answer' | 'unreadable' }
  /** DIS refused the gateway's own request for good (credentials, project, unknown DIS stream). */
  | { readonly kind: 'upstream-error' };

/** Request failures after which DIS may or may not have applied the request. */
const UNKNOWN_OUTCOME = new Set([
  'ERR_DIS_TIMEOUT',
  'ERR_DIS_CONNECTION_LOST',
  'ERR_DIS_BAD_RESPONSE',
]);

type Failed = Extract<RecordVerdict, { status: 'failed' }>;

/**
 * This record may be in DIS although its verdict is a failure: its last request's fate is unknown,
 * or an earlier attempt with it went unanswered (a timeout followed by a 503 is still unknown).
 */
export function isUnknownOutcome(verdict: RecordVerdict): boolean {
  if (verdict.status !== 'failed') return false;
  if (verdict.possiblyWritten === true) return true;
  return verdict.origin === 'request' && UNKNOWN_OUTCOME.has(verdict.errorCode);
}

/** Records that may be in DIS without the caller knowing: written or unknown. */
export function countPossiblyWritten(outcome: PutRecordsOutcome): number {
  let n = 0;
  for (const verdict of outcome.verdicts) {
    if (verdict.status === 'ok' || isUnknownOutcome(verdict)) n += 1;
  }
  return n;
}

export function countUnknown(outcome: PutRecordsOutcome): number {
  let n = 0;
  for (const verdict of outcome.verdicts) if (isUnknownOutcome(verdict)) n += 1;
  return n;
}

export function classifyOutcome(outcome: PutRecordsOutcome): OutcomeClass {
  if (outcome.failedCount === 0) return { kind: 'written' };
  const failed: Failed[] = [];
  for (const verdict of outcome.verdicts) {
    // Anything written, or any record DIS judged itself: the caller gets every record's verdict.
    if (verdict.status === 'ok' || verdict.origin === 'record') return { kind: 'partial' };
    failed.push(verdict);
  }
  const unknown = failed.filter(isUnknownOutcome);
  if (unknown.length > 0) {
    const unreadable = unknown.every((v) => v.errorCode === 'ERR_DIS_BAD_RESPONSE');
    return { kind: 'unknown', reason: unreadable ? 'unreadable' : 'no-answer' };
  }
  if (failed.some((v) => !v.retryable)) return { kind: 'upstream-error' };
  return {
    kind: 'unavailable',
    retryAfterMs: Math.max(1000, ...failed.map((v) => v.retryAfterMs ?? 0)),
  };
}

import type { PutRecordsOutcome, RecordVerdict } from '../dis/client.ts';

// How a PutRecords outcome maps to one answer for the whole request (design.md §3): per-record truth
// whenever anything was written or DIS judged the records; a whole-request error only when nothing was
// written and the reason lies with DIS or the path to it, not with the records.

export type OutcomeClass =
  | { readonly kind: 'written' }
  | { readonly kind: 'partial' }
  /** DIS unreachable, failing with 5xx/429, breaker open, no IAM token: nothing was written. */
  | { readonly kind: 'unavailable'; readonly retryAfterMs: number }
  /** No answer in time: nothing is known to be written. */
  | { readonly kind: 'timeout' }
  /** DIS refused the gateway's own request for good (credentials, project, unknown DIS stream). */
  | { readonly kind: 'upstream-error' };

/** Failures of whole requests that mean no answer arrived in time. */
const NO_ANSWER = new Set(['ERR_DIS_TIMEOUT', 'ERR_DIS_CONNECTION_LOST']);

type Failed = Extract<RecordVerdict, { status: 'failed' }>;

export function classifyOutcome(outcome: PutRecordsOutcome): OutcomeClass {
  if (outcome.failedCount === 0) return { kind: 'written' };
  const failed: Failed[] = [];
  for (const verdict of outcome.verdicts) {
    // Anything written, or any record DIS judged itself: the caller gets every record's verdict.
    if (verdict.status === 'ok' || verdict.origin === 'record') return { kind: 'partial' };
    failed.push(verdict);
  }
  if (failed.some((v) => !v.retryable)) return { kind: 'upstream-error' };
  if (failed.every((v) => NO_ANSWER.has(v.errorCode))) return { kind: 'timeout' };
  return {
    kind: 'unavailable',
    retryAfterMs: Math.max(1000, ...failed.map((v) => v.retryAfterMs ?? 0)),
  };
}

import { AppError } from '../errors/app-error.ts';
import type { StoredAnswer } from '../idempotency/types.ts';
import type {
  RecordsRender,
  RecordsResult,
  VerdictView,
  VerdictsView,
} from '../ingest/accept-records.ts';
import type { AcceptedAnswer, RecordVerdictBody, RecordsAnswer } from './answers.ts';
import { retryAfterSeconds } from './retry-after.ts';

// How the records API says what became of a request's records (design.md §3): every record's
// verdict (200/207), a receipt (202), or one problem for the whole request when nothing was written
// or nobody can know.

function verdictBody(verdict: VerdictView, id: string | undefined): RecordVerdictBody {
  const echo = id === undefined ? {} : { id };
  if (verdict.status === 'ok') {
    return {
      ...echo,
      status: 'ok',
      partition_id: verdict.partitionId,
      sequence_number: verdict.sequenceNumber,
    };
  }
  return {
    ...echo,
    status: 'failed',
    error_code: verdict.errorCode,
    error_message: verdict.errorMessage,
    retryable: verdict.retryable,
    ...(verdict.retryAfterMs === undefined ? {} : { retry_after_ms: verdict.retryAfterMs }),
  };
}

export const RECORDS_RENDER: RecordsRender = {
  verdicts: (stream: string, outcome: VerdictsView, ids: readonly (string | undefined)[]) => {
    const body: RecordsAnswer = {
      stream,
      failed_record_count: outcome.failedCount,
      records: outcome.verdicts.map((verdict, i) => verdictBody(verdict, ids[i])),
    };
    return {
      status: outcome.failedCount === 0 ? 200 : 207,
      headers: {},
      body: JSON.stringify(body),
    };
  },
  accepted: (stream: string, receiptId: string, count: number) => {
    const body: AcceptedAnswer = { stream, receipt: receiptId, accepted_record_count: count };
    return {
      status: 202,
      headers: { Location: `/v1/receipts/${receiptId}`, 'Preference-Applied': 'respond-async' },
      body: JSON.stringify(body),
    };
  },
};

const UNAVAILABLE_DETAIL: Readonly<
  Record<Extract<RecordsResult, { kind: 'unavailable' }>['reason'], string>
> = {
  'not-sent': 'The wait ended before the records could be sent; nothing was written',
  dis: 'DIS cannot be reached; nothing was written',
  suspended: 'DIS calls are suspended; nothing was written',
  overloaded: 'Too many records are waiting for DIS; nothing was written',
};

/**
 * Nothing was written: the wait ended first, DIS is failing, DIS calls are suspended (breaker) or
 * too many records wait for DIS. Webhooks answer the last two the same way.
 */
export function unavailableProblem(refused: {
  readonly reason: keyof typeof UNAVAILABLE_DETAIL;
  readonly retryAfterMs: number;
  readonly cause?: unknown;
}): AppError {
  return new AppError('ERR_DIS_UNAVAILABLE', {
    detail: UNAVAILABLE_DETAIL[refused.reason],
    headers: { 'Retry-After': retryAfterSeconds(refused.retryAfterMs) },
    cause: refused.cause,
  });
}

/** The answer to send, or the problem to throw. */
export function recordsAnswer(result: RecordsResult): StoredAnswer | AppError {
  switch (result.kind) {
    case 'written':
    case 'partial':
    case 'accepted':
    case 'replayed':
      return result.answer;
    case 'in-progress':
      return new AppError('ERR_IDEMPOTENCY_IN_PROGRESS', {
        headers: { 'Retry-After': String(result.retryAfterS) },
      });
    case 'mismatch':
      return new AppError('ERR_IDEMPOTENCY_MISMATCH', {
        detail: 'This Idempotency-Key was used with another body',
      });
    case 'unavailable':
      return unavailableProblem(result);
    case 'unknown':
      if (result.reason === 'unreadable') {
        return new AppError('ERR_DIS_BAD_GATEWAY', {
          detail:
            'DIS answered in a way the gateway cannot read; the records may have been written',
        });
      }
      return new AppError('ERR_DIS_TIMEOUT', {
        detail:
          result.reason === 'no-answer'
            ? 'DIS did not answer in time; the records may or may not have been written'
            : result.idempotent
              ? 'DIS did not answer within the wait; the records may still be written, and a retry with the same Idempotency-Key gets their verdict once DIS has answered'
              : 'DIS did not answer within the wait; the records may still be written',
      });
    case 'upstream-error':
      return new AppError('ERR_DIS_BAD_GATEWAY', {
        detail: 'DIS refused the gateway’s request; nothing was written',
      });
    case 'not-stored':
      return new AppError(
        result.reason === 'replication-timeout'
          ? 'ERR_REDIS_REPLICATION_TIMEOUT'
          : 'ERR_REDIS_UNAVAILABLE',
        {
          detail:
            result.what === 'receipt'
              ? 'The records were spooled, but the receipt could not be stored durably for this Idempotency-Key; a retry with the same key replays it once stored, or may spool them again'
              : 'DIS answered, but its verdict could not be stored durably for this Idempotency-Key; a retry with the same key replays it once stored, or may write the records again',
          headers: { 'Retry-After': '1' },
          cause: result.cause,
        },
      );
  }
}

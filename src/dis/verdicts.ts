import type { RequestFailure } from './errors.ts';
import type { PutRecordsResultEntry } from './wire.ts';

// What PutRecords tells its caller about each record, and the few ways a verdict is made.

export type RecordVerdict =
  | { readonly status: 'ok'; readonly partitionId: string; readonly sequenceNumber: string }
  | {
      readonly status: 'failed';
      readonly errorCode: string;
      readonly errorMessage: string;
      /** The same record may succeed if sent again later. */
      readonly retryable: boolean;
      readonly retryAfterMs?: number;
      /** Whether DIS judged this record (`record`) or the whole request failed (`request`). */
      readonly origin: 'record' | 'request';
      /**
       * An earlier attempt with this record got no answer (timeout, lost connection) and may have
       * been applied: DIS may hold the record although this verdict says failed.
       */
      readonly possiblyWritten?: true;
    };

export function failedVerdict(
  origin: 'record' | 'request',
  errorCode: string,
  errorMessage: string,
  retryable: boolean,
  retryAfterMs?: number,
): RecordVerdict {
  return retryAfterMs === undefined
    ? { status: 'failed', errorCode, errorMessage, retryable, origin }
    : { status: 'failed', errorCode, errorMessage, retryable, retryAfterMs, origin };
}

/** The verdict of a record DIS wrote. */
export function writtenVerdict(entry: PutRecordsResultEntry): RecordVerdict {
  return {
    status: 'ok',
    partitionId: entry.partition_id ?? '',
    sequenceNumber: entry.sequence_number ?? '',
  };
}

/** The verdict of a record whose whole request failed. */
export function requestFailedVerdict(
  failure: RequestFailure,
  retryable: boolean,
  retryAfterMs?: number,
): RecordVerdict {
  return failedVerdict('request', failure.code, failure.message, retryable, retryAfterMs);
}

/** A failed verdict of a record that an unanswered attempt may have written. */
export function markPossiblyWritten(verdict: RecordVerdict): RecordVerdict {
  return verdict.status === 'failed' ? { ...verdict, possiblyWritten: true } : verdict;
}

/** Stands in for a verdict the client failed to produce, so a caller never gets a hole. */
export const MISSING_VERDICT: RecordVerdict = failedVerdict(
  'request',
  'ERR_DIS_BAD_RESPONSE',
  'no verdict was produced for this record',
  true,
);

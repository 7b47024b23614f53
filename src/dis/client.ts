import { setTimeout as sleepTimer } from 'node:timers/promises';
import type { BreakerState } from './breaker.ts';
import { toChunks } from './chunk.ts';
import {
  createDisConnection,
  type DisConnectionOptions,
  type DisRequestEvents,
} from './connection.ts';
import { DisError, DisHttpError, errorCodeOf } from './errors.ts';
import { parsePutRecordsResult } from './responses.ts';
import {
  DEFAULT_BACKOFF,
  backoffDelay,
  isRetryableRecordCode,
  isRetryableRequestError,
  type BackoffPolicy,
  type DisRetryEvent,
} from './retry.ts';
import type { RecordVerdict } from './verdicts.ts';
import { MAX_REQUEST_DATA_BYTES, type PutRecordsRequestEntry } from './wire.ts';

// PutRecords: a call split into chunks, each sent and resent until it has a verdict per record.
// Stream management lives in management.ts.

// Kept importable from here: the gateway's other layers name them as the client's types.
export type { DisAuth } from './connection.ts';
export type { RecordVerdict } from './verdicts.ts';

export interface PutRecordsLimits {
  readonly maxRecordsPerRequest: number;
  /** Raw data bytes per PutRecords request; never above DIS's 5 MB. */
  readonly maxBytesPerRequest: number;
  /** PutRecords requests of one call in flight at once. */
  readonly maxConcurrentRequests: number;
}

export const DEFAULT_LIMITS: PutRecordsLimits = {
  maxRecordsPerRequest: 500,
  maxBytesPerRequest: 4 * 1024 * 1024,
  maxConcurrentRequests: 4,
};

/** Hooks for metrics and logs; the client itself keeps no counters. */
export interface DisClientEvents extends DisRequestEvents {
  readonly retry?: (event: DisRetryEvent) => void;
  /** Records resent after a request whose answer was lost: DIS may now hold them twice. */
  readonly possibleDuplicates?: (event: { readonly records: number }) => void;
}

export interface DisClientOptions extends DisConnectionOptions {
  readonly random?: (() => number) | undefined;
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  readonly limits?: Partial<PutRecordsLimits> | undefined;
  readonly backoff?: Partial<BackoffPolicy> | undefined;
  /**
   * Attempts in a row that make no progress before giving up (default 10); the deadline usually ends
   * retries first.
   */
  readonly maxAttempts?: number | undefined;
  /** Do not start an attempt with less time than this left before the deadline (default 50 ms). */
  readonly minAttemptMs?: number | undefined;
  readonly events?: DisClientEvents | undefined;
}

export interface PutRecordsInput {
  readonly streamName: string;
  readonly streamId?: string | undefined;
  readonly records: readonly PutRecordsRequestEntry[];
  /**
   * Absolute time (ms, the client's clock) after which no attempt starts. An attempt in flight
   * then runs to the request timeout (its answer is the truth about those records), so the call
   * may return up to that long after the deadline.
   */
  readonly deadline: number;
}

export interface PutRecordsOutcome {
  /** One per input record, in input order. */
  readonly verdicts: RecordVerdict[];
  readonly failedCount: number;
  /** PutRecords requests sent, retries included. */
  readonly requests: number;
  /** Records resent after an answer was lost (at-least-once: DIS may hold them twice). */
  readonly possibleDuplicates: number;
}

export interface DisClient {
  readonly putRecords: (input: PutRecordsInput) => Promise<PutRecordsOutcome>;
  readonly breakerState: () => BreakerState;
  readonly close: () => Promise<void>;
}

/** Failures the client does not retry itself but after which the caller may send the records again. */
const RETRYABLE_LATER = new Set<string>([
  'ERR_DIS_CIRCUIT_OPEN',
  'ERR_DIS_BAD_RESPONSE',
  'ERR_DIS_IAM',
]);

function failed(
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

function verdictFromError(
  error: DisError,
  retryable: boolean,
  retryAfterMs?: number,
): RecordVerdict {
  const message =
    error instanceof DisHttpError ? (error.disMessage ?? error.message) : error.message;
  return failed('request', errorCodeOf(error), message, retryable, retryAfterMs);
}

export function createDisClient(options: DisClientOptions): DisClient {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? ((ms: number) => sleepTimer(ms));
  const limits: PutRecordsLimits = { ...DEFAULT_LIMITS, ...options.limits };
  if (limits.maxBytesPerRequest > MAX_REQUEST_DATA_BYTES) {
    throw new RangeError(
      `maxBytesPerRequest may not exceed ${MAX_REQUEST_DATA_BYTES} (DIS's limit)`,
    );
  }
  const backoff: BackoffPolicy = { ...DEFAULT_BACKOFF, ...options.backoff };
  const maxAttempts = options.maxAttempts ?? 10;
  const minAttemptMs = options.minAttemptMs ?? 50;
  const events = options.events ?? {};
  const connection = createDisConnection(options);

  const timeLeftFor = (deadline: number, delay: number): boolean =>
    now() + delay + minAttemptMs <= deadline;

  const putRecords = async (input: PutRecordsInput): Promise<PutRecordsOutcome> => {
    connection.checkBreaker();
    const verdicts = new Array<RecordVerdict | undefined>(input.records.length);
    let requests = 0;
    let possibleDuplicates = 0;

    /** Resolves whether an attempt of the chunk may have been applied without an answer. */
    const sendChunk = async (indices: readonly number[]): Promise<boolean> => {
      let pending = indices;
      let possiblyApplied = false;
      let backoffAttempt = 0;
      let attemptsWithoutProgress = 0;
      let lastFailure: DisError | undefined;
      let lastRecordFailure: { code: string; message: string } | undefined;
      let resendIsDuplicateRisk = false;

      // A chunk whose turn comes after the deadline is not sent at all (the caller has its answer
      // by then; a request sent now would outlive it by up to the request timeout). The first wave
      // of a call always goes, however short its deadline.
      if (now() >= input.deadline) {
        for (const index of pending) {
          verdicts[index] = failed(
            'request',
            'ERR_DIS_NOT_SENT',
            'not sent: the deadline passed before this chunk’s turn',
            true,
            backoff.initialDelayMs,
          );
        }
        return false;
      }

      for (;;) {
        if (resendIsDuplicateRisk) {
          possibleDuplicates += pending.length;
          events.possibleDuplicates?.({ records: pending.length });
          resendIsDuplicateRisk = false;
        }
        requests += 1;
        let progress = false;
        try {
          const response = await connection.exchange({
            operation: 'PutRecords',
            method: 'POST',
            path: '/records',
            body: JSON.stringify({
              stream_name: input.streamName,
              ...(input.streamId === undefined ? {} : { stream_id: input.streamId }),
              records: pending.map((i) => input.records[i]),
            }),
          });
          const result = parsePutRecordsResult(response.text, pending.length);
          const retry: number[] = [];
          result.records.forEach((entry, k) => {
            const index = pending[k];
            if (index === undefined) return;
            if (entry.error_code === undefined || entry.error_code === '') {
              verdicts[index] = {
                status: 'ok',
                partitionId: entry.partition_id ?? '',
                sequenceNumber: entry.sequence_number ?? '',
              };
            } else if (isRetryableRecordCode(entry.error_code)) {
              retry.push(index);
              lastRecordFailure = { code: entry.error_code, message: entry.error_message ?? '' };
            } else {
              verdicts[index] = failed(
                'record',
                entry.error_code,
                entry.error_message ?? '',
                false,
              );
            }
          });
          progress = retry.length < pending.length;
          pending = retry;
          lastFailure = undefined;
          if (pending.length === 0) return possiblyApplied;
          events.retry?.({ operation: 'PutRecords', kind: 'records', records: pending.length });
        } catch (error) {
          if (!(error instanceof DisError)) throw error;
          if (!isRetryableRequestError(error)) {
            // An open circuit, an IAM failure or an unreadable answer says nothing against the
            // records themselves: the caller may send them again (an unreadable 200 may have
            // written them).
            const retryable = RETRYABLE_LATER.has(error.code);
            const after = error instanceof DisHttpError ? error.retryAfterMs : undefined;
            for (const index of pending) {
              verdicts[index] = verdictFromError(error, retryable, retryable ? after : undefined);
            }
            return possiblyApplied;
          }
          lastFailure = error;
          resendIsDuplicateRisk = error.possiblyProcessed;
          if (error.possiblyProcessed) possiblyApplied = true;
          events.retry?.({ operation: 'PutRecords', kind: 'request', records: pending.length });
        }
        // Progress (some records went through) holds the backoff where it is and does not use up
        // attempts: under throttling the deadline, not a count, decides when to stop.
        if (!progress) backoffAttempt += 1;
        attemptsWithoutProgress = progress ? 0 : attemptsWithoutProgress + 1;
        const retryAfter =
          lastFailure instanceof DisHttpError ? (lastFailure.retryAfterMs ?? 0) : 0;
        const delay = Math.max(backoffDelay(backoff, backoffAttempt, random), retryAfter);
        if (attemptsWithoutProgress >= maxAttempts || !timeLeftFor(input.deadline, delay)) {
          const retryAfterMs = Math.max(delay, backoff.initialDelayMs);
          for (const index of pending) {
            verdicts[index] =
              lastFailure !== undefined
                ? verdictFromError(lastFailure, true, retryAfterMs)
                : failed(
                    'record',
                    lastRecordFailure?.code ?? 'DIS.4303',
                    lastRecordFailure?.message ?? '',
                    true,
                    retryAfterMs,
                  );
          }
          return possiblyApplied;
        }
        await sleep(delay);
      }
    };

    const chunks = toChunks(input.records, {
      maxRecords: limits.maxRecordsPerRequest,
      maxBytes: limits.maxBytesPerRequest,
    });
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let chunk = chunks[next++]; chunk !== undefined; chunk = chunks[next++]) {
        // Whatever the last attempt said, a chunk that once went unanswered may be in DIS.
        if (await sendChunk(chunk)) {
          for (const index of chunk) {
            const verdict = verdicts[index];
            if (verdict?.status === 'failed')
              verdicts[index] = { ...verdict, possiblyWritten: true };
          }
        }
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(limits.maxConcurrentRequests, chunks.length) }, worker),
    );

    const complete = verdicts.map(
      (verdict) =>
        verdict ??
        failed('request', 'ERR_DIS_BAD_RESPONSE', 'no verdict was produced for this record', true),
    );
    return {
      verdicts: complete,
      failedCount: complete.filter((v) => v.status === 'failed').length,
      requests,
      possibleDuplicates,
    };
  };

  return {
    putRecords,
    breakerState: () => connection.breakerState(),
    close: () => connection.close(),
  };
}

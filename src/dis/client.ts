import { setTimeout as sleepTimer } from 'node:timers/promises';
import type { BreakerState } from './breaker.ts';
import { toChunks } from './chunk.ts';
import {
  createDisConnection,
  type DisConnection,
  type DisConnectionOptions,
  type DisRequestEvents,
  type TraceHeaders,
} from './connection.ts';
import { DisError, toRequestFailure } from './errors.ts';
import { parsePutRecordsResult } from './responses.ts';
import { DEFAULT_BACKOFF, type BackoffPolicy, type DisRetryEvent } from './retry.ts';
import {
  decideNextStep,
  startSending,
  type AttemptResult,
  type RetryPolicy,
} from './retry-decision.ts';
import { MISSING_VERDICT, type RecordVerdict } from './verdicts.ts';
import { MAX_REQUEST_DATA_BYTES, type PutRecordsRequestEntry } from './wire.ts';

// PutRecords: a call split into chunks, each sent, judged by the retry decision and resent until it
// has a verdict per record. Stream management lives in management.ts.

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
  /** W3C trace headers of this call's span, sent with every attempt (not signed). */
  readonly trace?: TraceHeaders | undefined;
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

/** One PutRecords request with the given records; every DisError becomes a result. */
async function sendAttempt(
  connection: DisConnection,
  input: PutRecordsInput,
  indices: readonly number[],
): Promise<AttemptResult> {
  try {
    const response = await connection.exchange({
      operation: 'PutRecords',
      method: 'POST',
      path: '/records',
      trace: input.trace,
      body: JSON.stringify({
        stream_name: input.streamName,
        ...(input.streamId === undefined ? {} : { stream_id: input.streamId }),
        records: indices.map((i) => input.records[i]),
      }),
    });
    return {
      kind: 'answered',
      records: parsePutRecordsResult(response.text, indices.length).records,
    };
  } catch (error) {
    if (!(error instanceof DisError)) throw error;
    return { kind: 'failed', failure: toRequestFailure(error) };
  }
}

/** Runs `task` over `items` with at most `concurrency` in flight, taking them in order. */
async function forEachConcurrently<T>(
  items: readonly T[],
  concurrency: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let item = items[next++]; item !== undefined; item = items[next++]) await task(item);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

export function createDisClient(options: DisClientOptions): DisClient {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => sleepTimer(ms));
  const limits: PutRecordsLimits = { ...DEFAULT_LIMITS, ...options.limits };
  if (limits.maxBytesPerRequest > MAX_REQUEST_DATA_BYTES) {
    throw new RangeError(
      `maxBytesPerRequest may not exceed ${MAX_REQUEST_DATA_BYTES} (DIS's limit)`,
    );
  }
  const policy: RetryPolicy = {
    backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
    maxAttempts: options.maxAttempts ?? 10,
    minAttemptMs: options.minAttemptMs ?? 50,
    random: options.random ?? Math.random,
  };
  const events = options.events ?? {};
  const connection = createDisConnection(options);

  const putRecords = async (input: PutRecordsInput): Promise<PutRecordsOutcome> => {
    connection.checkBreaker();
    const verdicts = new Array<RecordVerdict | undefined>(input.records.length);
    let requests = 0;
    let possibleDuplicates = 0;

    const countPossibleDuplicates = (records: number): void => {
      if (records === 0) return;
      possibleDuplicates += records;
      events.possibleDuplicates?.({ records });
    };

    const sendChunk = async (indices: readonly number[]): Promise<void> => {
      let step = startSending(indices, input.deadline, now(), policy);
      while (step.action === 'send') {
        countPossibleDuplicates(step.possibleDuplicates);
        requests += 1;
        const result = await sendAttempt(connection, input, step.state.pending);
        step = decideNextStep(step.state, result, now(), policy);
        if (step.leftToRetry !== undefined) {
          events.retry?.({ operation: 'PutRecords', ...step.leftToRetry });
        }
        if (step.action === 'send') await sleep(step.delayMs);
      }
      for (const [index, verdict] of step.verdicts) verdicts[index] = verdict;
    };

    const chunks = toChunks(input.records, {
      maxRecords: limits.maxRecordsPerRequest,
      maxBytes: limits.maxBytesPerRequest,
    });
    await forEachConcurrently(chunks, limits.maxConcurrentRequests, sendChunk);

    // Array.from visits holes too, which map would skip.
    const complete = Array.from(verdicts, (verdict) => verdict ?? MISSING_VERDICT);
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

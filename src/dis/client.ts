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
import { splitRefused, type RecordGroup } from './isolation.ts';
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
  /**
   * Requests a call may spend resending, in parts, records DIS refused whole with a code that may
   * name one record (isolation: by caller, then halves); 0 turns isolation off.
   */
  readonly maxIsolationRequests: number;
}

export const DEFAULT_LIMITS: PutRecordsLimits = {
  maxRecordsPerRequest: 500,
  maxBytesPerRequest: 4 * 1024 * 1024,
  maxConcurrentRequests: 4,
  maxIsolationRequests: 32,
};

/** Hooks for metrics and logs; the client itself keeps no counters. */
export interface DisClientEvents extends DisRequestEvents {
  readonly retry?: (event: DisRetryEvent) => void;
  /** Records resent after a request whose answer was lost: DIS may now hold them twice. */
  readonly possibleDuplicates?: (event: { readonly records: number }) => void;
  /** A whole-request refusal is resent in parts to isolate the records at fault. */
  readonly isolation?: (event: IsolationEvent) => void;
}

export interface IsolationEvent {
  /** DIS's code of the refusal. */
  readonly code: string;
  readonly records: number;
  readonly parts: number;
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
  /**
   * The callers sharing this call (the batcher's), as consecutive runs of records in input order,
   * each with its own deadline (`deadline` is then the latest). A record whose caller's deadline
   * ends stops being retried; the others go on. Isolation splits by these runs first.
   */
  readonly groups?: readonly RecordGroup[] | undefined;
  /** Called once per record as soon as its verdict is final, before the call returns. */
  readonly onVerdict?: ((index: number, verdict: RecordVerdict) => void) | undefined;
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

export type { RecordGroup } from './isolation.ts';

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

/** Each record's deadline, by input index, from its group's. */
function groupDeadlines(
  groups: readonly RecordGroup[],
  count: number,
  fallback: number,
): Float64Array {
  const deadlines = new Float64Array(count);
  let start = 0;
  for (const group of groups) {
    deadlines.fill(group.deadline, start, Math.min(group.end, count));
    start = group.end;
  }
  // Records past the last group (none, when the groups cover the input) take the call's.
  if (start < count) deadlines.fill(fallback, start);
  return deadlines;
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
    const { groups, onVerdict } = input;
    const deadlines =
      groups === undefined
        ? undefined
        : groupDeadlines(groups, input.records.length, input.deadline);
    let requests = 0;
    let possibleDuplicates = 0;
    let isolationLeft = limits.maxIsolationRequests;

    const countPossibleDuplicates = (records: number): void => {
      if (records === 0) return;
      possibleDuplicates += records;
      events.possibleDuplicates?.({ records });
    };

    const settle = (
      indices: readonly number[],
      settled: ReadonlyMap<number, RecordVerdict>,
      except?: ReadonlySet<number>,
    ): void => {
      for (const index of indices) {
        if (except?.has(index) === true) continue;
        const verdict = settled.get(index);
        if (verdict === undefined) continue;
        verdicts[index] = verdict;
        onVerdict?.(index, verdict);
      }
    };

    const sendChunk = async (indices: readonly number[]): Promise<void> => {
      let step = startSending(indices, input.deadline, now(), policy, deadlines);
      while (step.action === 'send') {
        // What this step settled is reported before the backoff: its caller may be waiting.
        settle(step.settledNow, step.state.settled);
        if (step.delayMs > 0) await sleep(step.delayMs);
        countPossibleDuplicates(step.possibleDuplicates);
        requests += 1;
        const result = await sendAttempt(connection, input, step.state.pending);
        step = decideNextStep(step.state, result, now(), policy);
        if (step.leftToRetry !== undefined) {
          events.retry?.({ operation: 'PutRecords', ...step.leftToRetry });
        }
      }
      const { isolable } = step;
      if (isolable === undefined || isolationLeft < 2) {
        settle(step.settledNow, step.verdicts);
        return;
      }
      // DIS refused the whole request for something a record may carry: resend it in parts (by
      // caller, then halves) so the good records are written and only the offending ones fail.
      settle(step.settledNow, step.verdicts, new Set(isolable));
      const parts = splitRefused(isolable, groups, isolationLeft);
      isolationLeft -= parts.length;
      const refusal = step.verdicts.get(isolable[0] ?? -1);
      events.isolation?.({
        code: refusal?.status === 'failed' ? refusal.errorCode : '',
        records: isolable.length,
        parts: parts.length,
      });
      for (const part of parts) await sendChunk(part);
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

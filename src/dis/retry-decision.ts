import type { DisErrorCode, RequestFailure } from './errors.ts';
import {
  backoffDelay,
  isRetryableRecordCode,
  isRetryableRequestFailure,
  type BackoffPolicy,
} from './retry.ts';
import {
  failedVerdict,
  markPossiblyWritten,
  requestFailedVerdict,
  writtenVerdict,
  type RecordVerdict,
} from './verdicts.ts';
import type { PutRecordsResultEntry } from './wire.ts';

// The retry decision for one chunk of a PutRecords call, as pure functions: the state of the
// chunk's sending and the result of its last attempt in, the next step out (send these records
// after this delay, or stop with these verdicts). The client only sends, sleeps and applies.

export interface RetryPolicy {
  readonly backoff: BackoffPolicy;
  /** Attempts in a row that make no progress before giving up. */
  readonly maxAttempts: number;
  /** No attempt starts with less time than this left before the deadline. */
  readonly minAttemptMs: number;
  /** Draws in [0, 1) for the backoff's jitter. */
  readonly random: () => number;
}

export interface ChunkSending {
  /** Absolute time (ms, the client's clock) after which no attempt starts. */
  readonly deadline: number;
  /** The records the next attempt sends (input indices), in request order. */
  readonly pending: readonly number[];
  /** Verdicts of the chunk's other records, by input index. */
  readonly settled: ReadonlyMap<number, RecordVerdict>;
  /** Exponent of the backoff ceiling. */
  readonly backoffStep: number;
  readonly attemptsWithoutProgress: number;
  /** An attempt went out and got no answer: DIS may hold its records. */
  readonly unanswered: boolean;
}

export type AttemptResult =
  /** DIS answered 2xx: one entry per record sent, in the same order. */
  | { readonly kind: 'answered'; readonly records: readonly PutRecordsResultEntry[] }
  | { readonly kind: 'failed'; readonly failure: RequestFailure };

/** What the last attempt left to retry, whether or not there is time left to. */
export interface LeftToRetry {
  readonly kind: 'request' | 'records';
  readonly records: number;
}

export type NextStep =
  | {
      readonly action: 'send';
      /** `state.pending` is what to send. */
      readonly state: ChunkSending;
      readonly delayMs: number;
      /** Records resent after an attempt that went unanswered: DIS may now hold them twice. */
      readonly possibleDuplicates: number;
      /** Absent before the first attempt. */
      readonly leftToRetry?: LeftToRetry;
    }
  | {
      readonly action: 'stop';
      /** One per record of the chunk, by input index. */
      readonly verdicts: ReadonlyMap<number, RecordVerdict>;
      readonly leftToRetry?: LeftToRetry;
    };

/** Failures the client does not retry itself but after which the caller may send the records again. */
const RETRYABLE_LATER: ReadonlySet<DisErrorCode> = new Set<DisErrorCode>([
  'ERR_DIS_CIRCUIT_OPEN',
  'ERR_DIS_BAD_RESPONSE',
  'ERR_DIS_IAM',
]);

/** Why the records still pending failed, should time or attempts run out. */
type PendingFailure =
  | { readonly origin: 'record'; readonly code: string; readonly message: string }
  | { readonly origin: 'request'; readonly failure: RequestFailure };

export function startSending(
  indices: readonly number[],
  deadline: number,
  now: number,
  policy: RetryPolicy,
): NextStep {
  // A chunk whose turn comes after the deadline is not sent at all (the caller has its answer by
  // then; a request sent now would outlive it by up to the request timeout). The first wave of a
  // call always goes, however short its deadline.
  if (now >= deadline) {
    const notSent = failedVerdict(
      'request',
      'ERR_DIS_NOT_SENT',
      'not sent: the deadline passed before this chunk’s turn',
      true,
      policy.backoff.initialDelayMs,
    );
    return { action: 'stop', verdicts: new Map(indices.map((index) => [index, notSent])) };
  }
  return {
    action: 'send',
    delayMs: 0,
    possibleDuplicates: 0,
    state: {
      deadline,
      pending: indices,
      settled: new Map(),
      backoffStep: 0,
      attemptsWithoutProgress: 0,
      unanswered: false,
    },
  };
}

export function decideNextStep(
  state: ChunkSending,
  result: AttemptResult,
  now: number,
  policy: RetryPolicy,
): NextStep {
  return result.kind === 'answered'
    ? afterAnswer(state, result.records, now, policy)
    : afterFailure(state, result.failure, now, policy);
}

function afterAnswer(
  state: ChunkSending,
  records: readonly PutRecordsResultEntry[],
  now: number,
  policy: RetryPolicy,
): NextStep {
  const settled = new Map(state.settled);
  const retry: number[] = [];
  let reason: PendingFailure | undefined;
  for (const [k, entry] of records.entries()) {
    const index = state.pending[k];
    if (index === undefined) continue;
    const code = entry.error_code;
    const message = entry.error_message ?? '';
    if (code === undefined || code === '') {
      settled.set(index, writtenVerdict(entry));
    } else if (isRetryableRecordCode(code)) {
      retry.push(index);
      reason = { origin: 'record', code, message };
    } else {
      settled.set(index, failedVerdict('record', code, message, false));
    }
  }
  if (reason === undefined) return stop(settled, state.unanswered);
  const progress = retry.length < state.pending.length;
  return scheduleRetry({ ...state, pending: retry, settled }, progress, reason, now, policy);
}

function afterFailure(
  state: ChunkSending,
  failure: RequestFailure,
  now: number,
  policy: RetryPolicy,
): NextStep {
  if (!isRetryableRequestFailure(failure)) {
    // An open circuit, an IAM failure or an unreadable answer says nothing against the records
    // themselves: the caller may send them again (an unreadable 200 may have written them).
    const retryable = RETRYABLE_LATER.has(failure.kind);
    const verdict = requestFailedVerdict(
      failure,
      retryable,
      retryable ? failure.retryAfterMs : undefined,
    );
    const settled = new Map(state.settled);
    for (const index of state.pending) settled.set(index, verdict);
    return stop(settled, state.unanswered);
  }
  const unanswered = state.unanswered || failure.possiblyProcessed;
  return scheduleRetry(
    { ...state, unanswered },
    false,
    { origin: 'request', failure },
    now,
    policy,
  );
}

/** `state.pending` failed retryably: send it again after a backoff, or give up on it. */
function scheduleRetry(
  state: ChunkSending,
  progress: boolean,
  reason: PendingFailure,
  now: number,
  policy: RetryPolicy,
): NextStep {
  // Progress (some records went through) holds the backoff where it is and does not use up
  // attempts: under throttling the deadline, not a count, decides when to stop.
  const backoffStep = progress ? state.backoffStep : state.backoffStep + 1;
  const attemptsWithoutProgress = progress ? 0 : state.attemptsWithoutProgress + 1;
  const retryAfterMs = reason.origin === 'request' ? (reason.failure.retryAfterMs ?? 0) : 0;
  const delayMs = Math.max(backoffDelay(policy.backoff, backoffStep, policy.random), retryAfterMs);
  const leftToRetry: LeftToRetry = {
    kind: reason.origin === 'request' ? 'request' : 'records',
    records: state.pending.length,
  };
  if (
    attemptsWithoutProgress >= policy.maxAttempts ||
    now + delayMs + policy.minAttemptMs > state.deadline
  ) {
    const hint = Math.max(delayMs, policy.backoff.initialDelayMs);
    const verdict =
      reason.origin === 'request'
        ? requestFailedVerdict(reason.failure, true, hint)
        : failedVerdict('record', reason.code, reason.message, true, hint);
    const settled = new Map(state.settled);
    for (const index of state.pending) settled.set(index, verdict);
    return stop(settled, state.unanswered, leftToRetry);
  }
  const duplicateRisk = reason.origin === 'request' && reason.failure.possiblyProcessed;
  return {
    action: 'send',
    state: { ...state, backoffStep, attemptsWithoutProgress },
    delayMs,
    possibleDuplicates: duplicateRisk ? state.pending.length : 0,
    leftToRetry,
  };
}

/** Whatever the last attempt said, a chunk that once went unanswered may be in DIS. */
function stop(
  settled: ReadonlyMap<number, RecordVerdict>,
  unanswered: boolean,
  leftToRetry?: LeftToRetry,
): NextStep {
  const verdicts = unanswered
    ? new Map([...settled].map(([index, verdict]) => [index, markPossiblyWritten(verdict)]))
    : settled;
  return leftToRetry === undefined
    ? { action: 'stop', verdicts }
    : { action: 'stop', verdicts, leftToRetry };
}

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
  /**
   * Each record's own deadline by input index, when the records of several callers share the chunk
   * (absent: every record has `deadline`). A record whose deadline leaves no time for the next
   * attempt stops being retried and gets its verdict; the others go on.
   */
  readonly deadlines?: ArrayLike<number> | undefined;
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
      /** Records of the chunk whose verdict this step made final (in `state.settled`). */
      readonly settledNow: readonly number[];
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
      /** Records of the chunk whose verdict this step made final. */
      readonly settledNow: readonly number[];
      readonly leftToRetry?: LeftToRetry;
      /**
       * DIS refused the whole request with a code that may name one record's content (see
       * {@link isRecordAttributable}): these records (more than one, none of them possibly written)
       * could be sent again in parts to find the offending ones. Their verdicts are in `verdicts`.
       */
      readonly isolable?: readonly number[];
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
  deadlines?: ArrayLike<number>,
): NextStep {
  // A record whose deadline passed before its chunk's turn is not sent at all (its caller has its
  // answer by then; a request sent now would outlive it by up to the request timeout).
  const notSent = failedVerdict(
    'request',
    'ERR_DIS_NOT_SENT',
    'not sent: the deadline passed before this chunk’s turn',
    true,
    policy.backoff.initialDelayMs,
  );
  const late = indices.filter((index) => now >= (deadlines?.[index] ?? deadline));
  if (late.length === indices.length) {
    return {
      action: 'stop',
      verdicts: new Map(indices.map((index) => [index, notSent])),
      settledNow: indices,
    };
  }
  const lateSet = new Set(late);
  const pending = late.length === 0 ? indices : indices.filter((index) => !lateSet.has(index));
  return {
    action: 'send',
    delayMs: 0,
    possibleDuplicates: 0,
    settledNow: late,
    state: {
      deadline,
      deadlines,
      pending,
      settled: new Map(late.map((index) => [index, notSent])),
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
  const settledNow: number[] = [];
  const retry: number[] = [];
  let reason: PendingFailure | undefined;
  for (const [k, entry] of records.entries()) {
    const index = state.pending[k];
    if (index === undefined) continue;
    const code = entry.error_code;
    const message = entry.error_message ?? '';
    if (code === undefined || code === '') {
      settled.set(index, writtenVerdict(entry));
      settledNow.push(index);
    } else if (isRetryableRecordCode(code)) {
      retry.push(index);
      reason = { origin: 'record', code, message };
    } else {
      settled.set(index, marked(failedVerdict('record', code, message, false), state.unanswered));
      settledNow.push(index);
    }
  }
  if (reason === undefined) return { action: 'stop', verdicts: settled, settledNow };
  const progress = retry.length < state.pending.length;
  return scheduleRetry(
    { ...state, pending: retry, settled },
    settledNow,
    progress,
    reason,
    now,
    policy,
  );
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
    const verdict = marked(
      requestFailedVerdict(failure, retryable, retryable ? failure.retryAfterMs : undefined),
      state.unanswered,
    );
    const settled = new Map(state.settled);
    for (const index of state.pending) settled.set(index, verdict);
    const isolable =
      !state.unanswered && state.pending.length > 1 && isRecordAttributable(failure)
        ? { isolable: state.pending }
        : {};
    return { action: 'stop', verdicts: settled, settledNow: state.pending, ...isolable };
  }
  const unanswered = state.unanswered || failure.possiblyProcessed;
  return scheduleRetry(
    { ...state, unanswered },
    [],
    false,
    { origin: 'request', failure },
    now,
    policy,
  );
}

/**
 * DIS codes of a whole-request refusal that may come from one record's content rather than from
 * the stream, the project or the credentials: a bad partition id (also after a scale-down), a
 * partition that does not exist or expired, a body or data DIS cannot take. Sending the records
 * again in parts finds the ones at fault. A 413 (too large) is one too.
 */
const RECORD_ATTRIBUTABLE_CODES: ReadonlySet<string> = new Set([
  'DIS.4200',
  'DIS.4201',
  'DIS.4300',
  'DIS.4302',
  'DIS.4319',
  'DIS.4360',
]);

export function isRecordAttributable(failure: RequestFailure): boolean {
  if (failure.status === 413) return true;
  return failure.status === 400 && RECORD_ATTRIBUTABLE_CODES.has(failure.code);
}

/** `state.pending` failed retryably: send it again after a backoff, or give up on it. */
function scheduleRetry(
  state: ChunkSending,
  settledBefore: readonly number[],
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
  const nextStart = now + delayMs + policy.minAttemptMs;
  const outOfAttempts = attemptsWithoutProgress >= policy.maxAttempts;
  // Each record stops at its own caller's deadline; the others go on.
  const { deadlines } = state;
  const keep = outOfAttempts
    ? []
    : state.pending.filter((index) => nextStart <= (deadlines?.[index] ?? state.deadline));
  const settledNow = [...settledBefore];
  let { settled } = state;
  if (keep.length < state.pending.length) {
    const hint = Math.max(delayMs, policy.backoff.initialDelayMs);
    const verdict = marked(
      reason.origin === 'request'
        ? requestFailedVerdict(reason.failure, true, hint)
        : failedVerdict('record', reason.code, reason.message, true, hint),
      state.unanswered,
    );
    const mutable = new Map(settled);
    const kept = new Set(keep);
    for (const index of state.pending) {
      if (kept.has(index)) continue;
      mutable.set(index, verdict);
      settledNow.push(index);
    }
    settled = mutable;
  }
  if (keep.length === 0) return { action: 'stop', verdicts: settled, settledNow, leftToRetry };
  const duplicateRisk = reason.origin === 'request' && reason.failure.possiblyProcessed;
  return {
    action: 'send',
    state: { ...state, pending: keep, settled, backoffStep, attemptsWithoutProgress },
    delayMs,
    possibleDuplicates: duplicateRisk ? keep.length : 0,
    leftToRetry,
    settledNow,
  };
}

/**
 * A chunk that went unanswered once may be in DIS, whatever a later attempt said: a verdict made
 * after such an attempt is marked when it is made (a record settled before it was not in it).
 */
function marked(verdict: RecordVerdict, unanswered: boolean): RecordVerdict {
  return unanswered ? markPossiblyWritten(verdict) : verdict;
}

import { setTimeout as sleep } from 'node:timers/promises';
import type { PutRecordsOutcome } from '../dis/client.ts';
import type { RecordVerdict } from '../dis/verdicts.ts';
import { AppError } from '../errors/app-error.ts';
import { InvariantError } from '../errors/coded-error.ts';
import type { IdempotencyHandle, IdempotencyStore, StoredAnswer } from '../idempotency/types.ts';
import type { TraceContext } from '../observability/trace-context.ts';
import type { Ending, HandOff, HandOffResult, Hold, Refused } from './hand-off.ts';
import { countPossiblyWritten } from './outcome.ts';
import { principalOwner } from './receipts.ts';
import type { IngestRecord, StreamTarget } from './records.ts';

// The records API's use case: records of one caller for one stream, accepted once per
// Idempotency-Key. It owns the key's lifecycle (begin → replay / in progress / mismatch, or hold the
// lock until the verdict is stored or nothing can have been written) and says what became of the
// records; the caller's protocol says how that sounds (`render`).

/** What is known of a request before its records are parsed. */
export interface RecordsRequest {
  /** The principal id: owner of the key and of the receipt. */
  readonly principal: string;
  readonly stream: StreamTarget;
  readonly mode: 'sync' | 'async';
  /** How long the caller waits for DIS (sync). */
  readonly waitMs: number;
  /** Present when the caller sent an Idempotency-Key (validated) and the request's fingerprint. */
  readonly idempotency?: { readonly key: string; readonly fingerprint: string } | undefined;
  /** The request's span (W3C Trace Context), for the DIS call. */
  readonly trace?: TraceContext | undefined;
}

export interface AcceptRecordsInput extends RecordsRequest {
  readonly records: readonly IngestRecord[];
  /** Raw data bytes of `records`, as the rate limiter was charged. */
  readonly bytes: number;
}

export type RecordsResult =
  /** DIS judged every record (200) or some (207): the answer carries each record's verdict. */
  | {
      readonly kind: 'written' | 'partial';
      readonly answer: StoredAnswer;
      readonly failedCount: number;
    }
  /** Spooled: the answer is the 202 with the receipt. */
  | { readonly kind: 'accepted'; readonly answer: StoredAnswer }
  /** An earlier request with this Idempotency-Key and body was answered: the same answer again. */
  | { readonly kind: 'replayed'; readonly answer: StoredAnswer }
  | { readonly kind: 'in-progress'; readonly retryAfterS: number }
  | { readonly kind: 'mismatch' }
  | Refused
  /** Nothing was written: the wait ended before sending (not-sent), or DIS is failing. */
  | {
      readonly kind: 'unavailable';
      readonly reason: 'not-sent' | 'dis';
      readonly retryAfterMs: number;
      readonly failedCount: number;
    }
  /** The records may or may not be in DIS: no answer in time, one that could not be read, or late. */
  | {
      readonly kind: 'unknown';
      readonly reason: 'no-answer' | 'unreadable' | 'late';
      readonly idempotent: boolean;
      readonly failedCount?: number;
    }
  /** DIS refused the gateway's own request for good; nothing was written. */
  | { readonly kind: 'upstream-error'; readonly failedCount: number }
  /**
   * Written (verdict) or spooled (receipt), but what a retry with the key must replay could not be
   * stored durably: the retry replays it once stored, or may write the records again.
   */
  | {
      readonly kind: 'not-stored';
      readonly what: 'verdict' | 'receipt';
      /** A replica did not confirm in time (the primary holds it), or Redis failed. */
      readonly reason: 'replication-timeout' | 'redis-unavailable';
      readonly failedCount?: number;
      readonly cause: unknown;
    };

type NotStored = Pick<Extract<RecordsResult, { kind: 'not-stored' }>, 'reason' | 'cause'>;

type WithoutBookkeeping<T> = T extends unknown ? Omit<T, 'origin' | 'possiblyWritten'> : never;

/** What a caller is told about one record: DIS's verdict without the gateway's bookkeeping. */
export type VerdictView = WithoutBookkeeping<RecordVerdict>;

export interface VerdictsView {
  /** One per record, in the request's order. */
  readonly verdicts: readonly VerdictView[];
  readonly failedCount: number;
}

/** How the caller's protocol says a verdict or a receipt (what a replay sends again). */
export interface RecordsRender {
  readonly verdicts: (
    stream: string,
    outcome: VerdictsView,
    ids: readonly (string | undefined)[],
  ) => StoredAnswer;
  readonly accepted: (stream: string, receiptId: string, count: number) => StoredAnswer;
}

export interface AcceptRecordsDeps {
  readonly handOff: HandOff;
  readonly idempotency: IdempotencyStore;
  readonly render: RecordsRender;
  /** How long a DIS call in flight at the caller's deadline may still run (a lock outlasts it). */
  readonly lateAnswerMs: number;
  readonly background: (task: Promise<void>) => void;
  readonly events?:
    | {
        readonly possibleDuplicates?: ((count: number) => void) | undefined;
        /** A verdict could not be stored under its Idempotency-Key (after DIS had answered). */
        readonly verdictNotStored?: ((error: unknown) => void) | undefined;
      }
    | undefined;
}

/** A request that may go on: its records are parsed and charged next, then accepted or abandoned. */
export interface RecordsClaim {
  accept(records: readonly IngestRecord[], bytes: number): Promise<RecordsResult>;
  /**
   * The request ends before its records are handed off (refused: malformed, over a limit):
   * nothing was written, so a retry with the same Idempotency-Key runs again. Best effort.
   */
  abandon(): Promise<void>;
}

export type Begun =
  | Extract<RecordsResult, { kind: 'replayed' | 'in-progress' | 'mismatch' }>
  | { readonly kind: 'claimed'; readonly claim: RecordsClaim };

/**
 * Two steps, so that a stored verdict is replayed before the records are parsed or charged:
 * `begin` settles the Idempotency-Key (one Redis call with a key, none without), the claim's
 * `accept` hands the parsed records off.
 */
export interface AcceptRecords {
  begin(request: RecordsRequest): Promise<Begun>;
}

/** begin, then accept at once: for callers that have the records already. */
export async function acceptNow(
  accept: AcceptRecords,
  input: AcceptRecordsInput,
): Promise<RecordsResult> {
  const begun = await accept.begin(input);
  return begun.kind === 'claimed' ? begun.claim.accept(input.records, input.bytes) : begun;
}

function notSent(outcome: PutRecordsOutcome): boolean {
  return outcome.verdicts.every((v) => v.status === 'failed' && v.errorCode === 'ERR_DIS_NOT_SENT');
}

export function createAcceptRecords(deps: AcceptRecordsDeps): AcceptRecords {
  const events = deps.events ?? {};

  function possibleDuplicates(count: number): void {
    if (count > 0) events.possibleDuplicates?.(count);
  }

  /** Best effort: a lock that cannot be released expires by itself. */
  async function release(handle: IdempotencyHandle): Promise<void> {
    await deps.idempotency.release(handle).catch(() => undefined);
  }

  async function retryVerdict(handle: IdempotencyHandle, answer: StoredAnswer): Promise<void> {
    for (const delayMs of [250, 1000, 3000]) {
      await sleep(delayMs);
      try {
        await deps.idempotency.complete(handle, answer);
        return;
      } catch {
        // Tried again after the next delay; the lock expires after the last.
      }
    }
  }

  /**
   * Stores the verdict under the key; undefined when stored. When that fails after records were
   * written or spooled, the records count as possible duplicates and the caller is told (a
   * `not-stored` result); a Redis error (not a replica that was too slow, whose primary already
   * holds the verdict) is retried in the background for a few seconds so that a retry finds the
   * verdict rather than the lock.
   */
  async function storeVerdict(
    handle: IdempotencyHandle,
    answer: StoredAnswer,
    written: number,
  ): Promise<NotStored | undefined> {
    try {
      await deps.idempotency.complete(handle, answer);
      return undefined;
    } catch (error) {
      events.verdictNotStored?.(error);
      possibleDuplicates(written);
      const code = error instanceof AppError ? error.code : 'ERR_REDIS_UNAVAILABLE';
      if (code === 'ERR_REDIS_UNAVAILABLE') deps.background(retryVerdict(handle, answer));
      return {
        reason:
          code === 'ERR_REDIS_REPLICATION_TIMEOUT' ? 'replication-timeout' : 'redis-unavailable',
        cause: error,
      };
    }
  }

  async function accept(
    request: RecordsRequest,
    handle: IdempotencyHandle | undefined,
    records: readonly IngestRecord[],
    bytes: number,
  ): Promise<RecordsResult> {
    const { stream } = request;
    const ids = records.map((r) => r.id);
    // Rendered once per request: the answer stored under the key is the one the caller gets.
    let rendered: StoredAnswer | undefined;
    const verdictsAnswer = (outcome: PutRecordsOutcome): StoredAnswer =>
      (rendered ??= deps.render.verdicts(stream.name, outcome, ids));
    const acceptedAnswer = (receiptId: string): StoredAnswer =>
      (rendered ??= deps.render.accepted(stream.name, receiptId, records.length));

    let hold: Hold | undefined;
    let notStored: NotStored | undefined;
    if (handle !== undefined) {
      // What the waiting caller must hear: a failure to store after a late answer has no one to tell.
      const store = async (answer: StoredAnswer, written: number, answering: boolean) => {
        const failure = await storeVerdict(handle, answer, written);
        if (answering) notStored = failure;
      };
      hold = {
        // A retry with the same key must run again, not replay a failure, but only when nothing
        // can have been written: an unknown outcome keeps the key locked until its lock expires.
        settle: async (ending: Ending, answering: boolean) => {
          switch (ending.kind) {
            case 'spooled':
              await store(acceptedAnswer(ending.receiptId), ending.count, answering);
              return;
            case 'outcome': {
              const kind = ending.class.kind;
              if (kind === 'written' || kind === 'partial') {
                await store(
                  verdictsAnswer(ending.outcome),
                  countPossiblyWritten(ending.outcome),
                  answering,
                );
              } else if (kind !== 'unknown') await release(handle);
              return;
            }
            case 'not-sent':
              await release(handle);
              return;
            case 'maybe-spooled':
              return;
          }
        },
      };
    }

    const result = await deps.handOff(
      {
        owner: principalOwner(request.principal),
        stream,
        records,
        bytes,
        mode: request.mode,
        waitMs: request.waitMs,
        trace: request.trace,
      },
      hold,
    );
    if (notStored !== undefined) {
      return {
        kind: 'not-stored',
        what: result.kind === 'spooled' ? 'receipt' : 'verdict',
        ...notStored,
        ...(result.kind === 'outcome' ? { failedCount: result.outcome.failedCount } : {}),
      };
    }
    return toRecordsResult(result, hold !== undefined, verdictsAnswer, acceptedAnswer);
  }

  function claimFor(request: RecordsRequest, handle: IdempotencyHandle | undefined): RecordsClaim {
    let used = false;
    const use = (): void => {
      if (used) throw new InvariantError('a records claim is accepted or abandoned once');
      used = true;
    };
    return {
      accept: async (records, bytes) => {
        use();
        return accept(request, handle, records, bytes);
      },
      abandon: async () => {
        if (used) return;
        used = true;
        if (handle !== undefined) await release(handle);
      },
    };
  }

  return {
    async begin(request) {
      if (request.idempotency === undefined)
        return { kind: 'claimed', claim: claimFor(request, undefined) };
      const begun = await deps.idempotency.begin({
        principal: request.principal,
        stream: request.stream.name,
        key: request.idempotency.key,
        fingerprint: request.idempotency.fingerprint,
        // Held until the verdict is stored, also when it comes from a DIS call that outlives
        // the caller's wait; after that a retry may run again.
        lockTtlMs: request.waitMs + deps.lateAnswerMs + 10_000,
      });
      if (begun.kind === 'replay') return { kind: 'replayed', answer: begun.answer };
      if (begun.kind === 'in-progress')
        return { kind: 'in-progress', retryAfterS: begun.retryAfterS };
      if (begun.kind === 'mismatch') return { kind: 'mismatch' };
      return { kind: 'claimed', claim: claimFor(request, begun.handle) };
    },
  };
}

function toRecordsResult(
  result: HandOffResult,
  idempotent: boolean,
  verdictsAnswer: (outcome: PutRecordsOutcome) => StoredAnswer,
  acceptedAnswer: (receiptId: string) => StoredAnswer,
): RecordsResult {
  switch (result.kind) {
    case 'spooled':
      return { kind: 'accepted', answer: acceptedAnswer(result.receiptId) };
    case 'unavailable':
      return result;
    case 'late':
      return { kind: 'unknown', reason: 'late', idempotent };
    case 'outcome':
      break;
  }
  const { outcome } = result;
  const cls = result.class;
  const failedCount = outcome.failedCount;
  switch (cls.kind) {
    case 'written':
    case 'partial':
      return { kind: cls.kind, answer: verdictsAnswer(outcome), failedCount };
    case 'unavailable':
      return {
        kind: 'unavailable',
        reason: notSent(outcome) ? 'not-sent' : 'dis',
        retryAfterMs: cls.retryAfterMs,
        failedCount,
      };
    case 'unknown':
      return { kind: 'unknown', reason: cls.reason, idempotent, failedCount };
    case 'upstream-error':
      return { kind: 'upstream-error', failedCount };
  }
}

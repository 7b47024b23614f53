import type { PutRecordsOutcome } from '../dis/client.ts';
import type { TraceContext } from '../observability/trace-context.ts';
import { DisCircuitOpenError } from '../dis/errors.ts';
import { SpoolAppendError, type Spool } from '../spool/spool.ts';
import { BatcherOverloadedError } from './batcher.ts';
import { waitUntil } from './deadline.ts';
import type { Ingest } from './ingest.ts';
import {
  classifyOutcome,
  countPossiblyWritten,
  countUnknown,
  type OutcomeClass,
} from './outcome.ts';
import { toSpoolRecord, type IngestRecord, type StreamTarget } from './records.ts';

// Where accepted records go, and what their fate settles: the spool (async: a receipt) or DIS
// through the sink (sync: verdicts, within the caller's wait). Both entry points (the records API
// and webhook deliveries) come through here; they differ only in what a request holds while its
// records are accepted (an Idempotency-Key's lock, a delivery's replay claim) and in how they
// tell their caller.

/** How a hand-off ended, for what the request holds. */
export type Ending =
  | { readonly kind: 'spooled'; readonly receiptId: string; readonly count: number }
  | { readonly kind: 'outcome'; readonly outcome: PutRecordsOutcome; readonly class: OutcomeClass }
  /** Certainly nothing written: refused before sending, or a spool append that did not run. */
  | { readonly kind: 'not-sent' }
  /** A spool append that may have run (unconfirmed by replicas, or timed out). */
  | { readonly kind: 'maybe-spooled' };

/**
 * What a request holds while its records are accepted: told how the hand-off ended. `answering`:
 * the caller is still waiting (a failure to settle then reaches it); false after a 504, when a late
 * DIS answer settles it.
 */
export interface Hold {
  readonly settle: (ending: Ending, answering: boolean) => Promise<void>;
}

/** Nothing was sent: DIS calls are suspended (breaker) or too many records wait for DIS. */
export interface Refused {
  readonly kind: 'unavailable';
  readonly reason: 'suspended' | 'overloaded';
  readonly retryAfterMs: number;
  readonly cause: Error;
}

export type HandOffResult =
  | { readonly kind: 'spooled'; readonly receiptId: string }
  | { readonly kind: 'outcome'; readonly outcome: PutRecordsOutcome; readonly class: OutcomeClass }
  | Refused
  /** The wait ended before DIS answered; the call goes on and its outcome settles the hold. */
  | { readonly kind: 'late' };

export interface HandOffRequest {
  /** Who may read the receipt: `principal:<id>` or `webhook:<source>` (receipts.ts). */
  readonly owner: string;
  readonly stream: StreamTarget;
  readonly records: readonly IngestRecord[];
  /** Raw data bytes of `records` (the sink's batching bounds count them). */
  readonly bytes: number;
  /** async: the spool when there is one (else sync); sync: DIS within `waitMs`. */
  readonly mode: 'sync' | 'async';
  readonly waitMs: number;
  /** The request's span, for the DIS call it makes (sync; the forwarder's calls start their own). */
  readonly trace?: TraceContext | undefined;
}

/** What happened to records, for metrics and logs. */
export interface HandOffEvents {
  /** Records by outcome: written, failed_retryable, failed, spooled. */
  readonly records?: ((stream: string, outcome: string, count: number) => void) | undefined;
  /** Records DIS may hold twice: their caller was not told they were written, or could not be. */
  readonly possibleDuplicates?: ((count: number) => void) | undefined;
  /** A DIS call that outlived its caller's wait has settled. */
  readonly late?:
    | ((event: {
        readonly stream: string;
        readonly outcome: OutcomeClass['kind'];
        readonly records: number;
        readonly idempotent: boolean;
      }) => void)
    | undefined;
}

export interface HandOffDeps {
  readonly ingest: Ingest;
  /** The durable async path; absent without Redis, then every hand-off is sync. */
  readonly spool: Spool | undefined;
  readonly now: () => number;
  /** Work that goes on after the answer (a DIS call settling after a 504); close() awaits it. */
  readonly background: (task: Promise<void>) => void;
  readonly events?: HandOffEvents | undefined;
}

export type HandOff = (request: HandOffRequest, hold: Hold | undefined) => Promise<HandOffResult>;

/** Refusals of the sink that mean nothing was sent; undefined for anything else. */
function refusal(error: unknown): Refused | undefined {
  if (error instanceof DisCircuitOpenError)
    return {
      kind: 'unavailable',
      reason: 'suspended',
      retryAfterMs: error.retryAfterMs,
      cause: error,
    };
  if (error instanceof BatcherOverloadedError)
    return {
      kind: 'unavailable',
      reason: 'overloaded',
      retryAfterMs: error.retryAfterMs,
      cause: error,
    };
  return undefined;
}

export function createHandOff(deps: HandOffDeps): HandOff {
  const events = deps.events ?? {};

  function possibleDuplicates(count: number): void {
    if (count > 0) events.possibleDuplicates?.(count);
  }

  function countOutcome(stream: string, outcome: PutRecordsOutcome): void {
    const onRecords = events.records;
    if (onRecords === undefined) return;
    let retryable = 0;
    let failed = 0;
    for (const verdict of outcome.verdicts) {
      if (verdict.status === 'failed') {
        if (verdict.retryable) retryable += 1;
        else failed += 1;
      }
    }
    const written = outcome.verdicts.length - retryable - failed;
    if (written > 0) onRecords(stream, 'written', written);
    if (retryable > 0) onRecords(stream, 'failed_retryable', retryable);
    if (failed > 0) onRecords(stream, 'failed', failed);
  }

  /** Metrics, records DIS may now hold twice, and the hold: for an outcome in time or late. */
  async function settleOutcome(
    stream: string,
    outcome: PutRecordsOutcome,
    hold: Hold | undefined,
    answering: boolean,
  ): Promise<OutcomeClass> {
    const cls = classifyOutcome(outcome);
    countOutcome(stream, outcome);
    possibleDuplicates(countUnknown(outcome));
    await hold?.settle({ kind: 'outcome', outcome, class: cls }, answering);
    return cls;
  }

  /** A DIS call that outlived its caller's wait: its outcome settles the hold, metrics and logs. */
  async function settleLate(
    pending: Promise<PutRecordsOutcome>,
    stream: string,
    hold: Hold | undefined,
  ): Promise<void> {
    let outcome: PutRecordsOutcome;
    try {
      outcome = await pending;
    } catch {
      // Refused before it was sent (the batcher's queue, the breaker): nothing was written.
      await hold?.settle({ kind: 'not-sent' }, false);
      return;
    }
    events.late?.({
      stream,
      outcome: classifyOutcome(outcome).kind,
      records: outcome.verdicts.length,
      idempotent: hold !== undefined,
    });
    // Without a hold the caller, told 504, may send what DIS wrote again (the unknown ones are
    // counted in settleOutcome).
    if (hold === undefined)
      possibleDuplicates(countPossiblyWritten(outcome) - countUnknown(outcome));
    await settleOutcome(stream, outcome, hold, false);
  }

  async function spool(
    spoolStore: Spool,
    request: HandOffRequest,
    hold: Hold | undefined,
  ): Promise<HandOffResult> {
    const { stream, records } = request;
    let receiptId: string;
    try {
      ({ receiptId } = await spoolStore.append({
        disStream: stream.disStream,
        ...(stream.streamId === undefined ? {} : { streamId: stream.streamId }),
        logicalStream: stream.name,
        owner: request.owner,
        records: records.map(toSpoolRecord),
      }));
    } catch (error) {
      if (error instanceof SpoolAppendError && !error.mayHaveWritten) {
        // Nothing is in the spool (full, refused before sending): a retry must run again.
        await hold?.settle({ kind: 'not-sent' }, true);
      } else {
        // Perhaps in the spool (on the primary, unconfirmed; or a timeout after it ran): the hold
        // stays until it expires, and a retry after that may add a copy.
        possibleDuplicates(records.length);
        await hold?.settle({ kind: 'maybe-spooled' }, true);
      }
      throw error;
    }
    events.records?.(stream.name, 'spooled', records.length);
    await hold?.settle({ kind: 'spooled', receiptId, count: records.length }, true);
    return { kind: 'spooled', receiptId };
  }

  return async function handOff(request, hold) {
    if (request.mode === 'async' && deps.spool !== undefined)
      return spool(deps.spool, request, hold);

    const { stream } = request;
    const deadline = deps.now() + request.waitMs;
    let timely;
    try {
      timely = await waitUntil(
        deps.ingest.ingest(stream, request.records, request.bytes, deadline, request.trace),
        deadline,
        deps.now,
      );
    } catch (error) {
      // Refused before anything was sent (breaker open, batcher full): nothing was written.
      await hold?.settle({ kind: 'not-sent' }, true);
      const refused = refusal(error);
      if (refused !== undefined) return refused;
      throw error;
    }
    if (timely.late) {
      // The call goes on to its request timeout; what it settles is the hold's verdict.
      deps.background(settleLate(timely.pending, stream.name, hold));
      return { kind: 'late' };
    }
    const outcome = timely.value;
    const cls = await settleOutcome(stream.name, outcome, hold, true);
    return { kind: 'outcome', outcome, class: cls };
  };
}

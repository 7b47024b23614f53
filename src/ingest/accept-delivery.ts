import type { TraceContext } from '../observability/trace-context.ts';
import { ReplayGuardUnavailable, type ReplayGuard } from '../webhooks/replay-guard.ts';
import type { Ending, HandOff, Hold, Refused } from './hand-off.ts';
import { webhookOwner } from './receipts.ts';
import type { IngestRecord, StreamTarget } from './records.ts';

// A verified webhook delivery's use case: accepted once per delivery id. It owns the replay claim
// (new → held while the delivery is accepted; a redelivery meanwhile is `in-progress`, after it a
// `duplicate`) and hands the envelope off like any record.

export interface AcceptDeliveryInput {
  readonly source: string;
  readonly deliveryId: string;
  readonly stream: StreamTarget;
  /** The envelope, ready for DIS. */
  readonly record: IngestRecord;
  readonly mode: 'sync' | 'async';
  readonly waitMs: number;
  /** When the replay guard cannot answer: refuse (503) or accept without it (a redelivery may then be written twice). */
  readonly replayOnRedisDown: 'reject' | 'forward';
  /** The request's span (W3C Trace Context), for a sync DIS call. */
  readonly trace?: TraceContext | undefined;
}

export type DeliveryResult =
  | { readonly kind: 'duplicate' }
  /** An earlier attempt is still being accepted, or its write has no known outcome yet. */
  | { readonly kind: 'in-progress' }
  | { readonly kind: 'guard-unavailable'; readonly cause: Error }
  | { readonly kind: 'accepted'; readonly receiptId: string }
  | { readonly kind: 'written'; readonly partitionId: string; readonly sequenceNumber: string }
  | Refused
  /** DIS did not write it (failing, refused, or the record's own verdict): the sender retries. */
  | { readonly kind: 'not-written' }
  | { readonly kind: 'unknown'; readonly reason: 'no-answer' | 'unreadable' | 'late' };

export interface AcceptDeliveryDeps {
  readonly handOff: HandOff;
  readonly replayGuard: ReplayGuard;
  readonly events?:
    { readonly possibleDuplicates?: ((count: number) => void) | undefined } | undefined;
}

export type AcceptDelivery = (input: AcceptDeliveryInput) => Promise<DeliveryResult>;

export function createAcceptDelivery(deps: AcceptDeliveryDeps): AcceptDelivery {
  const guard = deps.replayGuard;

  /** Written means the claim is accepted: redeliveries are duplicates from now on. */
  async function accept(source: string, deliveryId: string): Promise<void> {
    try {
      await guard.accept(source, deliveryId);
    } catch {
      // The delivery is written; once the pending claim expires a redelivery writes it again.
      deps.events?.possibleDuplicates?.(1);
    }
  }

  /** Best effort: a claim that cannot be settled expires (pending) by itself. */
  async function release(source: string, deliveryId: string): Promise<void> {
    await guard.release(source, deliveryId).catch(() => undefined);
  }

  /**
   * What an ending means for the claim, whether the sender is still waiting or was told 504:
   * written or spooled → accepted; unknown (or maybe spooled) → left pending to expire (a
   * redelivery after that may write it twice); nothing written → released, so the retry goes
   * through.
   */
  function claimHold(source: string, deliveryId: string): Hold {
    return {
      settle: async (ending: Ending) => {
        switch (ending.kind) {
          case 'spooled':
            await accept(source, deliveryId);
            return;
          case 'outcome':
            if (ending.class.kind === 'written') await accept(source, deliveryId);
            else if (ending.class.kind !== 'unknown') await release(source, deliveryId);
            return;
          case 'not-sent':
            await release(source, deliveryId);
            return;
          case 'maybe-spooled':
            return;
        }
      },
    };
  }

  return async function acceptDelivery(input) {
    const { source, deliveryId } = input;
    let hold: Hold | undefined;
    try {
      const claim = await guard.claim(source, deliveryId);
      if (claim === 'duplicate') return { kind: 'duplicate' };
      // "duplicate" now could acknowledge a delivery whose first attempt then fails.
      if (claim === 'in-progress') return { kind: 'in-progress' };
      hold = claimHold(source, deliveryId);
    } catch (error) {
      if (!(error instanceof ReplayGuardUnavailable)) throw error;
      if (input.replayOnRedisDown !== 'forward') return { kind: 'guard-unavailable', cause: error };
      // Configured to forward without the guard: a redelivery may then be written twice.
    }

    const result = await deps.handOff(
      {
        owner: webhookOwner(source),
        stream: input.stream,
        records: [input.record],
        bytes: input.record.data.length,
        mode: input.mode,
        waitMs: input.waitMs,
        trace: input.trace,
      },
      hold,
    );
    switch (result.kind) {
      case 'spooled':
        return { kind: 'accepted', receiptId: result.receiptId };
      case 'unavailable':
        return result;
      case 'late':
        return { kind: 'unknown', reason: 'late' };
      case 'outcome': {
        const verdict = result.outcome.verdicts[0];
        if (verdict?.status === 'ok') {
          return {
            kind: 'written',
            partitionId: verdict.partitionId,
            sequenceNumber: verdict.sequenceNumber,
          };
        }
        return result.class.kind === 'unknown'
          ? { kind: 'unknown', reason: result.class.reason }
          : { kind: 'not-written' };
      }
    }
  };
}

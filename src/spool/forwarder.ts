import { setTimeout as sleep } from 'node:timers/promises';
import type { DisClient } from '../dis/client.ts';
import { DisCircuitOpenError } from '../dis/errors.ts';
import { backoffDelay, type BackoffPolicy } from '../dis/retry.ts';
import type { RedisClient } from '../redis/connect.ts';
import type { ReplicaAcks } from '../redis/replication.ts';
import { decodeEntry, toPutEntry, type SpoolEntry } from './entry.ts';
import { createSpoolKeys } from './keys.ts';
import { createSettle, planBatch, type BatchPlan, type DeadLetter, type Settle } from './settle.ts';
import { openStreamConnection, type StreamConnection } from './stream-connection.ts';
import type { RawEntry } from './stream-reply.ts';

export interface ForwarderEvents {
  /** Records DIS wrote (acknowledged and removed from the spool). */
  readonly written?: (n: number) => void;
  /** Records sent again after a retryable failure of an earlier attempt. */
  readonly retried?: (n: number) => void;
  /** Records moved to the dead-letter stream. */
  readonly deadLettered?: (n: number) => void;
  /**
   * Records taken over from another consumer that held them past `claimIdleMs` (a dead or stuck
   * instance). It may have written them before it stopped: each is a possible duplicate.
   */
  readonly claimed?: (n: number) => void;
  /** Records the DIS client resent after an answer was lost (DIS may hold them twice). */
  readonly possibleDuplicates?: (n: number) => void;
  /** Redis or DIS trouble; the forwarder backs off and carries on. */
  readonly error?: (error: unknown) => void;
}

export interface ForwarderOptions {
  /** A template: each stream gets its own duplicate connection, since its reads block. */
  readonly redis: RedisClient;
  /** Settlements (receipts, acknowledgements, dead letters) go through it (see settle.ts). */
  readonly acks: ReplicaAcks;
  readonly client: Pick<DisClient, 'putRecords'>;
  readonly streams: readonly { readonly disStream: string; readonly streamId?: string }[];
  /** Unique per instance, e.g. hostname-pid-random. */
  readonly consumer: string;
  readonly batchSize: number;
  readonly blockMs: number;
  readonly claimIdleMs: number;
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  readonly putTimeoutMs: number;
  readonly deadLetterMaxEntries: number;
  /** A receipt is kept this long after its latest record outcome (and from acceptance). */
  readonly receiptTtlS: number;
  readonly now: () => number;
  readonly random?: () => number;
  readonly keyPrefix?: string;
  readonly events?: ForwarderEvents;
}

export interface Forwarder {
  start(): void;
  /**
   * Stops reading (a blocking read ends within blockMs), lets in-flight batches finish and
   * acknowledges what DIS wrote; everything else stays pending for other instances.
   */
  stop(): Promise<void>;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

interface Batch {
  readonly kind: 'retry' | 'claimed' | 'new';
  readonly entries: readonly RawEntry[];
}

export function createForwarder(options: ForwarderOptions): Forwarder {
  const { client, now, consumer, batchSize } = options;
  const keys = createSpoolKeys(options.keyPrefix);
  const random = options.random ?? Math.random;
  const events = options.events ?? {};
  const backoff: BackoffPolicy = {
    initialDelayMs: options.retryInitialMs,
    multiplier: 2,
    maxDelayMs: options.retryMaxMs,
  };
  const claimEveryMs = Math.max(10, Math.floor(options.claimIdleMs / 4));
  let running: { readonly abort: AbortController; readonly done: Promise<void> } | undefined;

  const report = (error: unknown): void => {
    try {
      events.error?.(error);
    } catch {
      // A failing listener must not stop the forwarder.
    }
  };
  const emit = (listener: ((n: number) => void) | undefined, n: number): void => {
    if (n === 0 || listener === undefined) return;
    try {
      listener(n);
    } catch (error) {
      report(error);
    }
  };
  const stopping = (signal: AbortSignal): boolean => signal.aborted;
  const pause = (ms: number, signal: AbortSignal): Promise<void> =>
    sleep(ms, undefined, { signal }).catch(() => undefined);

  async function runStream(
    target: ForwarderOptions['streams'][number],
    connection: StreamConnection,
    signal: AbortSignal,
  ): Promise<void> {
    const settle: Settle = createSettle({
      acks: options.acks,
      streamKey: keys.stream(target.disStream),
      deadLetterKey: keys.deadLetter(target.disStream),
      receiptKey: keys.receipt,
      deadLetterMaxEntries: options.deadLetterMaxEntries,
      receiptTtlMs: Math.max(1, Math.round(options.receiptTtlS * 1000)),
    });
    const state = {
      groupReady: false,
      /** This consumer may hold entries that failed retryably (or were read before a restart). */
      ownPending: true,
      retryAttempt: 0,
      retryAt: 0,
      claimCursor: '0-0',
      nextClaimAt: 0,
      redisFailures: 0,
    };

    const nextBatch = async (): Promise<Batch | undefined> => {
      const t = now();
      if (state.ownPending && t >= state.retryAt) {
        const own = await connection.read('0');
        if (own.length > 0) return { kind: 'retry', entries: own };
        state.ownPending = false;
      }
      if (t >= state.retryAt && t >= state.nextClaimAt) {
        const claimed = await connection.claim(options.claimIdleMs, state.claimCursor);
        state.claimCursor = claimed.cursor;
        if (claimed.cursor === '0-0') state.nextClaimAt = t + claimEveryMs;
        if (claimed.entries.length > 0) return { kind: 'claimed', entries: claimed.entries };
      }
      // While own retries wait, wake up in time for them.
      const untilRetry = state.ownPending ? state.retryAt - t : Infinity;
      const fresh = await connection.read('>', Math.min(options.blockMs, Math.max(1, untilRetry)));
      return fresh.length > 0 ? { kind: 'new', entries: fresh } : undefined;
    };

    /**
     * DIS has answered for these entries: what is left is writing that down. A failed settlement
     * (Redis away, a receipt update not confirmed by a replica) is retried as it is, instead of
     * leaving the entries to be read and sent to DIS again. Stopping leaves them pending for
     * another instance (at-least-once).
     */
    const settleUntilDone = async (
      plan: BatchPlan,
      gone: readonly string[],
      failedAt: string,
    ): Promise<void> => {
      for (let attempt = 0; ; attempt += 1) {
        try {
          await settle(plan, gone, failedAt);
          return;
        } catch (error) {
          if (stopping(signal)) throw error;
          report(error);
          await pause(backoffDelay(backoff, attempt, random), signal);
        }
      }
    };

    const scheduleRetry = (extraMs = 0): void => {
      state.ownPending = true;
      state.retryAt = now() + Math.max(extraMs, backoffDelay(backoff, state.retryAttempt, random));
      state.retryAttempt += 1;
    };

    const forward = async (batch: Batch): Promise<void> => {
      const entries: SpoolEntry[] = [];
      const damaged: DeadLetter[] = [];
      const gone: string[] = [];
      for (const raw of batch.entries) {
        if (raw.fields === null) {
          gone.push(raw.id);
          continue;
        }
        const entry = decodeEntry(raw.id, raw.fields);
        if (entry === undefined) {
          damaged.push({
            id: raw.id,
            fields: raw.fields,
            errorCode: 'ERR_SPOOL_BAD_ENTRY',
            errorMessage: 'The spool entry lacks its data, receipt or index.',
          });
        } else {
          entries.push(entry);
        }
      }
      if (batch.kind === 'retry') emit(events.retried, entries.length);
      if (batch.kind === 'claimed') emit(events.claimed, entries.length);

      let plan: BatchPlan = { written: [], dead: [], retry: [], hold: false };
      let holdMs = 0;
      if (entries.length > 0) {
        try {
          const outcome = await client.putRecords({
            streamName: target.disStream,
            streamId: target.streamId,
            records: entries.map(toPutEntry),
            deadline: now() + options.putTimeoutMs,
          });
          emit(events.possibleDuplicates, outcome.possibleDuplicates);
          plan = planBatch(entries, outcome.verdicts);
        } catch (error) {
          // Nothing is known about these records: keep them all and wait.
          if (error instanceof DisCircuitOpenError) holdMs = error.retryAfterMs;
          else report(error);
          plan = { written: [], dead: [], retry: entries, hold: true };
        }
      }
      plan = { ...plan, dead: [...plan.dead, ...damaged] };
      await settleUntilDone(plan, gone, new Date(now()).toISOString());
      emit(events.written, plan.written.length);
      emit(events.deadLettered, plan.dead.length);

      if (plan.retry.length === 0) {
        // DIS takes records again: what waits in the pending list may go now.
        state.retryAttempt = 0;
        state.retryAt = 0;
        return;
      }
      scheduleRetry(holdMs);
      // DIS refuses everything for now (open breaker, credentials, unknown stream): reading
      // more would only move new entries into the pending list.
      if (plan.hold) await pause(state.retryAt - now(), signal);
    };

    while (!signal.aborted) {
      try {
        await connection.ready(signal);
        if (!state.groupReady) {
          await connection.ensureGroup();
          state.groupReady = true;
        }
        const batch = await nextBatch();
        if (batch !== undefined) await forward(batch);
        state.redisFailures = 0;
      } catch (error) {
        if (stopping(signal)) break;
        report(error);
        if (errorText(error).startsWith('NOGROUP')) state.groupReady = false;
        await pause(backoffDelay(backoff, state.redisFailures, random), signal);
        state.redisFailures += 1;
      }
    }
    await connection.retire().catch(() => undefined);
  }

  return {
    start() {
      if (running !== undefined) return;
      const abort = new AbortController();
      const connections = options.streams.map((target) =>
        openStreamConnection(options.redis, {
          key: keys.stream(target.disStream),
          consumer,
          batchSize,
          blockMs: options.blockMs,
          onError: report,
        }),
      );
      const loops = options.streams.map(async (target, i) => {
        const connection = connections[i];
        if (connection === undefined) return;
        try {
          await runStream(target, connection, abort.signal);
        } catch (error) {
          report(error);
        }
      });
      const done = Promise.all(loops).then(async () => {
        await Promise.all(connections.map((c) => c.close()));
      });
      running = { abort, done };
    },
    async stop() {
      const current = running;
      if (current === undefined) return;
      current.abort.abort();
      await current.done;
      running = undefined;
    },
  };
}

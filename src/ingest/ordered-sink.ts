import type { PutRecordsOutcome } from '../dis/client.ts';
import { DisCircuitOpenError } from '../dis/errors.ts';
import { failedVerdict, type RecordVerdict } from '../dis/verdicts.ts';
import type { PutRecordsRequestEntry } from '../dis/wire.ts';
import { BatcherOverloadedError } from './batcher.ts';
import type { PutRequest, RecordSink } from './ingest.ts';

// Per-key ordering (`streams.<n>.ordering: per_key`): records with the same key (partition id,
// explicit hash key or partition key) reach DIS in the order this instance accepted them, across
// callers and retries. Each key has a lane: one record of it is with DIS at a time (in one
// PutRecords, retried there until it has a verdict), the next goes when it is written. When one
// fails for good, the records queued behind it in its lane are not sent: they come back failed
// ERR_ORDERING_ABORTED, retryable, so that no later record lands before an earlier one its caller
// will send again. Records without a key of their own go as they come. The cost: a key moves at
// one record per DIS round trip (other keys go alongside, batched as usual).

/** The verdict of a record not sent because an earlier one with its key failed. */
export const ORDERING_ABORTED_CODE = 'ERR_ORDERING_ABORTED';

/** Margin before a caller's deadline at which its records still queued in lanes give up. */
const QUEUED_MARGIN_MS = 20;

interface Call {
  readonly request: PutRequest;
  readonly keys: readonly (string | undefined)[];
  readonly verdicts: (RecordVerdict | undefined)[];
  left: number;
  /** Records of this call waiting in a lane (not yet with DIS). */
  queued: number;
  requests: number;
  timer: NodeJS.Timeout | undefined;
  /** The inner sink refused the call's only wave: the caller hears the refusal itself. */
  refusal?: unknown;
  readonly resolve: (outcome: PutRecordsOutcome) => void;
  readonly reject: (error: unknown) => void;
}

interface Slot {
  readonly call: Call;
  readonly index: number;
}

interface Lane {
  /** The lane's records in acceptance order; the first is with DIS when `busy`. */
  readonly slots: Slot[];
  busy: boolean;
}

function abortedVerdict(retryAfterMs: number | undefined): RecordVerdict {
  return failedVerdict(
    'request',
    ORDERING_ABORTED_CODE,
    'not sent: an earlier record with the same key was not written, and this one may not overtake it',
    true,
    retryAfterMs,
  );
}

function refusedVerdict(error: unknown): RecordVerdict | undefined {
  if (error instanceof DisCircuitOpenError || error instanceof BatcherOverloadedError)
    return failedVerdict('request', error.code, error.message, true, error.retryAfterMs);
  return undefined;
}

export interface OrderedSinkOptions {
  readonly inner: RecordSink;
  readonly now: () => number;
}

/**
 * Wraps a sink: a request with `keys` (a per-key stream) goes through the lanes, any other straight
 * to the inner sink.
 */
export function createOrderedSink(options: OrderedSinkOptions): RecordSink {
  const { inner } = options;
  const lanes = new Map<string, Lane>();
  const laneKey = (call: Call, index: number): string | undefined => {
    const key = call.keys[index];
    return key === undefined ? undefined : `${call.request.target.disStream}\u0000${key}`;
  };

  const finish = (call: Call): void => {
    if (call.timer !== undefined) clearTimeout(call.timer);
    if (call.refusal !== undefined) {
      call.reject(call.refusal);
      return;
    }
    let failedCount = 0;
    for (const verdict of call.verdicts) if (verdict?.status === 'failed') failedCount += 1;
    call.resolve({
      verdicts: call.verdicts as RecordVerdict[],
      failedCount,
      requests: call.requests,
      possibleDuplicates: 0,
    });
  };

  /** Records ready to go, by call, sent together once a settlement has been applied. */
  type Ready = Map<Call, number[]>;

  const settle = (call: Call, index: number, verdict: RecordVerdict, ready: Ready): void => {
    if (call.verdicts[index] !== undefined) return;
    call.verdicts[index] = verdict;
    call.left -= 1;
    const key = laneKey(call, index);
    if (key !== undefined) {
      const lane = lanes.get(key);
      if (lane !== undefined) {
        const at = lane.slots.findIndex((slot) => slot.call === call && slot.index === index);
        if (at === 0 && lane.busy) {
          lane.slots.shift();
          lane.busy = false;
          if (verdict.status === 'failed') abortBehind(lane, 0, verdict);
        } else if (at >= 0) {
          // A record that gave up while queued: it leaves its place, and those behind it go too.
          lane.slots.splice(at, 1);
          call.queued -= 1;
          abortBehind(lane, at, verdict);
        }
        advance(key, lane, ready);
      }
    }
    if (call.left === 0) finish(call);
  };

  /** Everything queued in `lane` from `from` on fails: an earlier record of the key did not land. */
  const abortBehind = (lane: Lane, from: number, cause: RecordVerdict): void => {
    const hint = cause.status === 'failed' ? cause.retryAfterMs : undefined;
    for (const slot of lane.slots.splice(from)) {
      const { call } = slot;
      call.queued -= 1;
      if (call.verdicts[slot.index] !== undefined) continue;
      call.verdicts[slot.index] = abortedVerdict(hint);
      call.left -= 1;
      if (call.left === 0) finish(call);
    }
  };

  const advance = (key: string, lane: Lane, ready: Ready): void => {
    const head = lane.slots[0];
    if (head === undefined) {
      lanes.delete(key);
      return;
    }
    if (lane.busy) return;
    lane.busy = true;
    head.call.queued -= 1;
    const list = ready.get(head.call);
    if (list === undefined) ready.set(head.call, [head.index]);
    else list.push(head.index);
  };

  const dispatchAll = (ready: Ready): void => {
    for (const [call, indices] of ready) if (indices.length > 0) dispatch(call, indices);
  };

  const dispatch = (call: Call, indices: readonly number[]): void => {
    if (indices.length === 0) return;
    const { request } = call;
    const entries: PutRecordsRequestEntry[] = [];
    for (const index of indices) {
      const entry = request.entries[index];
      if (entry !== undefined) entries.push(entry);
    }
    // Bytes are shared out by record count: the batcher uses them only to size its batches.
    const bytes = Math.ceil((request.bytes * entries.length) / Math.max(1, request.entries.length));
    const firstWave = call.left === request.entries.length && indices.length === call.left;
    inner.put({ ...request, entries, bytes }).then(
      (outcome) => {
        call.requests = Math.max(call.requests, outcome.requests);
        const ready: Ready = new Map();
        indices.forEach((index, k) => {
          settle(call, index, outcome.verdicts[k] ?? abortedVerdict(undefined), ready);
        });
        dispatchAll(ready);
      },
      (error: unknown) => {
        // Refused before anything was sent (breaker open, batcher full). When that was all of the
        // call, its caller hears the refusal as such (503 with Retry-After, or the error); else the
        // records fail with it, retryable, and those queued behind them in their lanes are not sent.
        const refused = refusedVerdict(error);
        if (firstWave) call.refusal = error;
        const verdict =
          refused ??
          failedVerdict('request', 'ERR_INTERNAL', 'the records could not be handed to DIS', true);
        const ready: Ready = new Map();
        for (const index of indices) settle(call, index, verdict, ready);
        dispatchAll(ready);
      },
    );
  };

  /** At its deadline, a caller's records still queued give up (and abort those behind them). */
  const expire = (call: Call): void => {
    call.timer = undefined;
    if (call.queued === 0) return;
    const notSent = failedVerdict(
      'request',
      'ERR_DIS_NOT_SENT',
      'not sent: the deadline passed while an earlier record with the same key was with DIS',
      true,
    );
    const ready: Ready = new Map();
    call.keys.forEach((_, index) => {
      const key = laneKey(call, index);
      if (key === undefined || call.verdicts[index] !== undefined) return;
      const lane = lanes.get(key);
      const at = lane?.slots.findIndex((slot) => slot.call === call && slot.index === index) ?? -1;
      // Only records still queued: the one with DIS has its answer coming.
      if (lane !== undefined && (at > 0 || (at === 0 && !lane.busy)))
        settle(call, index, notSent, ready);
    });
    dispatchAll(ready);
  };

  return {
    put: (request) => {
      const { keys } = request;
      if (keys === undefined) return inner.put(request);
      return new Promise<PutRecordsOutcome>((resolve, reject) => {
        const call: Call = {
          request,
          keys,
          verdicts: new Array<RecordVerdict | undefined>(request.entries.length),
          left: request.entries.length,
          queued: 0,
          requests: 0,
          timer: undefined,
          resolve,
          reject,
        };
        if (call.left === 0) {
          finish(call);
          return;
        }
        const now: number[] = [];
        for (let index = 0; index < request.entries.length; index++) {
          const key = laneKey(call, index);
          if (key === undefined) {
            now.push(index);
            continue;
          }
          let lane = lanes.get(key);
          if (lane === undefined) {
            lane = { slots: [], busy: false };
            lanes.set(key, lane);
          }
          lane.slots.push({ call, index });
          if (lane.busy) {
            call.queued += 1;
          } else {
            lane.busy = true;
            now.push(index);
          }
        }
        if (call.queued > 0) {
          call.timer = setTimeout(
            () => {
              expire(call);
            },
            Math.max(0, request.deadline - QUEUED_MARGIN_MS - options.now()),
          );
        }
        dispatch(call, now);
      });
    },
  };
}

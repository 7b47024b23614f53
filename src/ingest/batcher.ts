import { CodedError } from '../errors/coded-error.ts';
import type { DisClient, PutRecordsOutcome } from '../dis/client.ts';
import type { RecordVerdict } from '../dis/verdicts.ts';
import type { PutRecordsRequestEntry } from '../dis/wire.ts';
import type { PutRequest, RecordSink } from './ingest.ts';

// Micro-batching per DIS stream (design.md §5): records of concurrent requests are coalesced into one
// PutRecords, flushed at the record limit, the byte limit, or the linger (0 = the next turn of the
// event loop, which coalesces only what is already queued and adds no latency). Each caller gets back
// exactly its own verdicts, in its own order.

export interface BatcherOptions {
  readonly client: Pick<DisClient, 'putRecords'>;
  /** 0: flush with setImmediate; more: wait up to this long for more records. */
  readonly lingerMs: number;
  readonly maxRecords: number;
  /** Raw bytes per flush. */
  readonly maxBytes: number;
  /** PutRecords calls per DIS stream in flight at once. */
  readonly maxInFlight: number;
  /** Records waiting per DIS stream; past it new requests are refused at once. */
  readonly maxQueuedRecords: number;
  readonly now: () => number;
  /** A monotonic clock (ms) for the linger: `now` may step with the wall clock. */
  readonly monotonicNow: () => number;
}

/** The queue of a DIS stream is full: the caller should answer 503 with Retry-After. */
export class BatcherOverloadedError extends CodedError<'ERR_INGEST_OVERLOADED'> {
  readonly retryAfterMs: number;

  constructor(retryAfterMs: number) {
    super('ERR_INGEST_OVERLOADED', 'too many records are waiting for DIS');
    this.retryAfterMs = retryAfterMs;
  }
}

interface Waiter {
  readonly entries: readonly PutRecordsRequestEntry[];
  readonly bytes: number;
  readonly deadline: number;
  readonly trace: PutRequest['trace'];
  /** When it was queued (monotonicNow), for the linger. */
  readonly queuedAt: number;
  readonly resolve: (outcome: PutRecordsOutcome) => void;
  readonly reject: (error: unknown) => void;
}

interface StreamQueue {
  readonly streamName: string;
  readonly streamId: string | undefined;
  readonly waiting: Waiter[];
  records: number;
  bytes: number;
  inFlight: number;
  scheduled:
    | { readonly kind: 'immediate'; readonly handle: NodeJS.Immediate }
    | { readonly kind: 'timer'; readonly handle: NodeJS.Timeout }
    | undefined;
}

/** Margin kept between a flush and the earliest waiting deadline. */
const DEADLINE_MARGIN_MS = 20;

function sliceOutcome(outcome: PutRecordsOutcome, from: number, count: number): PutRecordsOutcome {
  const verdicts: RecordVerdict[] = outcome.verdicts.slice(from, from + count);
  let failedCount = 0;
  for (const verdict of verdicts) if (verdict.status === 'failed') failedCount += 1;
  // Requests and possible duplicates belong to the shared call; metrics count them at the client.
  return { verdicts, failedCount, requests: outcome.requests, possibleDuplicates: 0 };
}

export interface Batcher extends RecordSink {
  /** Records waiting per DIS stream (for tests and metrics). */
  readonly queued: () => number;
}

export function createBatcher(options: BatcherOptions): Batcher {
  const queues = new Map<string, StreamQueue>();

  const queueFor = (streamName: string, streamId: string | undefined): StreamQueue => {
    const key = `${streamName}\u0000${streamId ?? ''}`;
    let queue = queues.get(key);
    if (queue === undefined) {
      queue = {
        streamName,
        streamId,
        waiting: [],
        records: 0,
        bytes: 0,
        inFlight: 0,
        scheduled: undefined,
      };
      queues.set(key, queue);
    }
    return queue;
  };

  const cancelSchedule = (queue: StreamQueue): void => {
    const { scheduled } = queue;
    if (scheduled === undefined) return;
    if (scheduled.kind === 'immediate') clearImmediate(scheduled.handle);
    else clearTimeout(scheduled.handle);
    queue.scheduled = undefined;
  };

  /** Takes whole requests off the queue up to the limits; one request larger than them goes alone. */
  const takeBatch = (queue: StreamQueue): Waiter[] => {
    const batch: Waiter[] = [];
    let records = 0;
    let bytes = 0;
    while (queue.waiting.length > 0) {
      const next = queue.waiting[0];
      if (next === undefined) break;
      const fits =
        records + next.entries.length <= options.maxRecords &&
        bytes + next.bytes <= options.maxBytes;
      if (batch.length > 0 && !fits) break;
      batch.push(next);
      queue.waiting.shift();
      records += next.entries.length;
      bytes += next.bytes;
    }
    queue.records -= records;
    queue.bytes -= bytes;
    return batch;
  };

  const send = async (queue: StreamQueue, batch: readonly Waiter[]): Promise<void> => {
    const entries: PutRecordsRequestEntry[] = [];
    let deadline = Number.POSITIVE_INFINITY;
    // One call has one parent span: the first request of the batch that carries a trace.
    let trace: PutRequest['trace'];
    for (const waiter of batch) {
      for (const entry of waiter.entries) entries.push(entry);
      deadline = Math.min(deadline, waiter.deadline);
      trace ??= waiter.trace;
    }
    queue.inFlight += 1;
    try {
      const outcome = await options.client.putRecords({
        streamName: queue.streamName,
        streamId: queue.streamId,
        records: entries,
        deadline,
        trace,
      });
      let offset = 0;
      for (const waiter of batch) {
        waiter.resolve(sliceOutcome(outcome, offset, waiter.entries.length));
        offset += waiter.entries.length;
      }
    } catch (error) {
      for (const waiter of batch) waiter.reject(error);
    } finally {
      queue.inFlight -= 1;
      if (queue.waiting.length > 0) flush(queue);
    }
  };

  const mustGoNow = (queue: StreamQueue): boolean => {
    if (queue.records >= options.maxRecords || queue.bytes >= options.maxBytes) return true;
    const earliest = queue.waiting.reduce((min, w) => Math.min(min, w.deadline), Infinity);
    return earliest - options.now() <= options.lingerMs + DEADLINE_MARGIN_MS;
  };

  /** How long the oldest waiting record still has to linger (0: it may go). */
  const lingerLeft = (queue: StreamQueue): number => {
    const oldest = queue.waiting[0];
    if (oldest === undefined || options.lingerMs === 0) return 0;
    return Math.max(0, oldest.queuedAt + options.lingerMs - options.monotonicNow());
  };

  /**
   * Sends what is queued. While a call for the stream is in flight, records keep gathering and go
   * with the next one, as soon as it returns and the oldest of them has lingered; a second call
   * starts only for a full batch or a caller whose deadline is near, up to the in-flight cap. So
   * batches grow with the load and with DIS's latency; at linger 0 nothing waits on a timer.
   */
  const flush = (queue: StreamQueue): void => {
    cancelSchedule(queue);
    while (
      queue.waiting.length > 0 &&
      queue.inFlight < options.maxInFlight &&
      (mustGoNow(queue) || (queue.inFlight === 0 && lingerLeft(queue) === 0))
    ) {
      void send(queue, takeBatch(queue));
    }
    // Records that must still linger go when it is over (or when the call in flight returns).
    if (queue.waiting.length > 0 && queue.inFlight === 0) schedule(queue);
  };

  const schedule = (queue: StreamQueue): void => {
    if (mustGoNow(queue) && queue.inFlight < options.maxInFlight) {
      flush(queue);
      return;
    }
    if (queue.scheduled !== undefined) return;
    const run = (): void => {
      queue.scheduled = undefined;
      flush(queue);
    };
    queue.scheduled =
      options.lingerMs === 0
        ? { kind: 'immediate', handle: setImmediate(run) }
        : { kind: 'timer', handle: setTimeout(run, lingerLeft(queue)) };
  };

  return {
    queued: () => [...queues.values()].reduce((sum, q) => sum + q.records, 0),
    put: (request: PutRequest) => {
      const queue = queueFor(request.target.disStream, request.target.streamId);
      // A request larger than the bound itself (the DIS front door takes the older Python SDK's
      // partitions × 1,000 records in one call) goes into an empty queue, or it could never pass.
      if (queue.records > 0 && queue.records + request.entries.length > options.maxQueuedRecords) {
        return Promise.reject(new BatcherOverloadedError(1000));
      }
      const { bytes } = request;
      return new Promise<PutRecordsOutcome>((resolve, reject) => {
        queue.waiting.push({
          entries: request.entries,
          bytes,
          deadline: request.deadline,
          trace: request.trace,
          queuedAt: options.monotonicNow(),
          resolve,
          reject,
        });
        queue.records += request.entries.length;
        queue.bytes += bytes;
        schedule(queue);
      });
    },
  };
}

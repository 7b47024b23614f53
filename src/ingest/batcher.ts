import { CodedError } from '../errors/coded-error.ts';
import type { DisClient, PutRecordsOutcome, RecordGroup } from '../dis/client.ts';
import type { RecordVerdict } from '../dis/verdicts.ts';
import type { PutRecordsRequestEntry } from '../dis/wire.ts';
import type { PutRequest, RecordSink } from './ingest.ts';

// Micro-batching per DIS stream (design.md §5): records of concurrent requests are coalesced into one
// PutRecords, flushed at the record limit, the byte limit, or the linger (0 = the next turn of the
// event loop, which coalesces only what is already queued and adds no latency). Each caller gets back
// exactly its own verdicts, in its own order, and shares no fate it cannot see: its records keep its
// own deadline inside the shared call (they stop being retried when its wait ends and it is answered
// then, while the others go on), and a whole-request refusal is isolated by the client (by caller,
// then in halves). Bookkeeping is O(1) per put: a FIFO of waiters and the earliest deadline kept in
// a monotonic deque, never scanned.

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

/** A queue with O(1) push, shift and peek (an array's shift copies). */
class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  peek(): T | undefined {
    return this.#items[this.#head];
  }

  peekLast(): T | undefined {
    return this.#items[this.#items.length - 1];
  }

  popLast(): T | undefined {
    if (this.length === 0) return undefined;
    return this.#items.pop();
  }

  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head += 1;
    // Compact once the dead prefix is half the array: amortised O(1).
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}

interface StreamQueue {
  readonly streamName: string;
  readonly streamId: string | undefined;
  readonly waiting: Fifo<Waiter>;
  /**
   * The waiters whose deadline is below every later one's, in queue order: its head has the
   * earliest deadline of the queue (a sliding-window minimum; waiters leave from the front only).
   */
  readonly earliest: Fifo<Waiter>;
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

/** A caller's share of a shared call: its own verdicts. */
function shareOf(verdicts: RecordVerdict[], requests: number): PutRecordsOutcome {
  let failedCount = 0;
  for (const verdict of verdicts) if (verdict.status === 'failed') failedCount += 1;
  // Requests and possible duplicates belong to the shared call; metrics count them at the client.
  return { verdicts, failedCount, requests, possibleDuplicates: 0 };
}

/** A waiter of a shared call: its verdicts gather as the client reports them. */
interface Share {
  readonly waiter: Waiter;
  readonly start: number;
  readonly verdicts: (RecordVerdict | undefined)[];
  left: number;
  done: boolean;
}

export interface Batcher extends RecordSink {
  /** Records waiting per DIS stream (for tests and metrics). */
  readonly queued: () => number;
}

/** The group (caller) of an input index: a binary search over the groups' ends. */
function shareAt(groups: readonly RecordGroup[], index: number): number {
  let low = 0;
  let high = groups.length - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (index < (groups[middle]?.end ?? 0)) high = middle;
    else low = middle + 1;
  }
  return low;
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
        waiting: new Fifo(),
        earliest: new Fifo(),
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
    for (let next = queue.waiting.peek(); next !== undefined; next = queue.waiting.peek()) {
      const fits =
        records + next.entries.length <= options.maxRecords &&
        bytes + next.bytes <= options.maxBytes;
      if (batch.length > 0 && !fits) break;
      batch.push(next);
      queue.waiting.shift();
      if (queue.earliest.peek() === next) queue.earliest.shift();
      records += next.entries.length;
      bytes += next.bytes;
    }
    queue.records -= records;
    queue.bytes -= bytes;
    return batch;
  };

  /** One caller's call: nothing shared, its outcome is its answer. */
  const sendAlone = async (queue: StreamQueue, waiter: Waiter): Promise<void> => {
    try {
      waiter.resolve(
        await options.client.putRecords({
          streamName: queue.streamName,
          streamId: queue.streamId,
          records: waiter.entries,
          deadline: waiter.deadline,
          trace: waiter.trace,
        }),
      );
    } catch (error) {
      waiter.reject(error);
    }
  };

  /**
   * Several callers' call: each keeps its deadline (groups) and is answered as soon as its own
   * records have their verdicts, not when the whole call ends.
   */
  const sendShared = async (queue: StreamQueue, batch: readonly Waiter[]): Promise<void> => {
    const entries: PutRecordsRequestEntry[] = [];
    const groups: RecordGroup[] = [];
    const shares: Share[] = [];
    let deadline = Number.NEGATIVE_INFINITY;
    // One call has one parent span: the first request of the batch that carries a trace.
    let trace: PutRequest['trace'];
    for (const waiter of batch) {
      const start = entries.length;
      for (const entry of waiter.entries) entries.push(entry);
      groups.push({ end: entries.length, deadline: waiter.deadline });
      const count = waiter.entries.length;
      shares.push({
        waiter,
        start,
        verdicts: new Array<RecordVerdict | undefined>(count),
        left: count,
        done: count === 0,
      });
      deadline = Math.max(deadline, waiter.deadline);
      trace ??= waiter.trace;
    }
    let requests = 0;
    const finish = (share: Share, verdicts: RecordVerdict[]): void => {
      share.done = true;
      share.waiter.resolve(shareOf(verdicts, requests));
    };
    const onVerdict = (index: number, verdict: RecordVerdict): void => {
      const share = shares[shareAt(groups, index)];
      if (share === undefined || share.done) return;
      const offset = index - share.start;
      if (share.verdicts[offset] !== undefined) return;
      share.verdicts[offset] = verdict;
      share.left -= 1;
      if (share.left === 0) finish(share, share.verdicts as RecordVerdict[]);
    };
    try {
      const outcome = await options.client.putRecords({
        streamName: queue.streamName,
        streamId: queue.streamId,
        records: entries,
        deadline,
        trace,
        groups,
        onVerdict,
      });
      requests = outcome.requests;
      // Whoever is still waiting (a verdict the client made up at the end) gets its slice.
      for (const share of shares) {
        if (share.done) continue;
        finish(
          share,
          outcome.verdicts.slice(share.start, share.start + share.waiter.entries.length),
        );
      }
    } catch (error) {
      for (const share of shares) if (!share.done) share.waiter.reject(error);
    }
  };

  const send = async (queue: StreamQueue, batch: readonly Waiter[]): Promise<void> => {
    queue.inFlight += 1;
    try {
      const [only] = batch;
      if (batch.length === 1 && only !== undefined) await sendAlone(queue, only);
      else await sendShared(queue, batch);
    } finally {
      queue.inFlight -= 1;
      if (queue.waiting.length > 0) flush(queue);
    }
  };

  const mustGoNow = (queue: StreamQueue): boolean => {
    if (queue.records >= options.maxRecords || queue.bytes >= options.maxBytes) return true;
    const earliest = queue.earliest.peek()?.deadline ?? Infinity;
    return earliest - options.now() <= options.lingerMs + DEADLINE_MARGIN_MS;
  };

  /** How long the oldest waiting record still has to linger (0: it may go). */
  const lingerLeft = (queue: StreamQueue): number => {
    const oldest = queue.waiting.peek();
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
        const waiter: Waiter = {
          entries: request.entries,
          bytes,
          deadline: request.deadline,
          trace: request.trace,
          queuedAt: options.monotonicNow(),
          resolve,
          reject,
        };
        queue.waiting.push(waiter);
        // Waiters behind with a later deadline than the newcomer's can never be the earliest now.
        for (
          let last = queue.earliest.peekLast();
          last !== undefined && last.deadline >= waiter.deadline;
          last = queue.earliest.peekLast()
        )
          queue.earliest.popLast();
        queue.earliest.push(waiter);
        queue.records += request.entries.length;
        queue.bytes += bytes;
        schedule(queue);
      });
    },
  };
}

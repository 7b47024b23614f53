import { CodedError } from '../errors/coded-error.ts';
import { Cluster } from 'ioredis';
import type { RedisClient } from './connect.ts';
import { keySlot } from './key-slot.ts';
import { defineScript, type RunScript, type ScriptDefinition } from './script.ts';

// "Acknowledged means replicated": a write the gateway acknowledges (a 202 for spooled records, a
// stored idempotent verdict, a receipt) is confirmed by WAIT on enough replicas first, so that a
// failover promoting one of them cannot take back what a caller was told.
//
// WAIT counts the writes of the connection it is sent on, so it goes in one pipeline after the
// writes: the same connection, and in Cluster the same node (a pipeline follows its keyed
// commands; WAIT has no key of its own). A separate WAIT after a write's reply could land on a new
// connection after a reconnect (a Sentinel switchover) and "confirm" nothing at once. WAIT blocks
// its connection until the replicas answer, so one WAIT per write would serialise them: writes are
// group-committed instead, per node, with at most one pipeline in flight each; those that arrive
// meanwhile go together in the next one behind a single WAIT.
//
// The writes in those pipelines are EVALs with the script's text, not ioredis's EVALSHA: on
// NOSCRIPT (a SCRIPT FLUSH, Redis 7.4 evicting scripts on a shared server) ioredis resends the
// script outside the pipeline, after the WAIT, which would then confirm a batch without that write.

/** How many replicas must confirm an acknowledged write, and for how long to wait for them. */
export interface ReplicaAckPolicy {
  /** A fixed count, or `auto`: 1 when the primary reports a connected replica, else 0. */
  readonly minReplicaAcks: number | 'auto';
  readonly timeoutMs: number;
}

export interface ReplicaAckEvents {
  /** Every WAIT that fell short. */
  readonly timeout?: (write: ReplicatedWrite) => void;
  /** `auto` found replicas after it had started at 0 (one was still syncing at startup). */
  readonly raised?: (required: number) => void;
}

/** While `auto` is 0, how often the primaries are asked again whether a replica has appeared. */
const AUTO_RECHECK_MS = 10_000;

/**
 * Too many acknowledged writes wait for their node already (its replicas are slow or gone): this
 * one was refused before it was sent, so it certainly wrote nothing.
 */
export class ReplicationBacklogError extends CodedError<'ERR_REDIS_REPLICATION_BACKLOG'> {
  constructor() {
    super(
      'ERR_REDIS_REPLICATION_BACKLOG',
      'too many writes are waiting for Redis replicas to confirm them; not sent',
    );
  }
}

/** Fewer replicas than required confirmed the write in time. The write is on the primary. */
export class ReplicationTimeoutError extends CodedError<'ERR_REDIS_REPLICATION_TIMEOUT'> {
  readonly acked: number;
  readonly required: number;

  constructor(acked: number, required: number) {
    super(
      'ERR_REDIS_REPLICATION_TIMEOUT',
      `${acked} of ${required} required Redis replicas confirmed the write in time`,
    );
    this.acked = acked;
    this.required = required;
  }
}

/** What the primaries report about their replicas (every master, in Cluster). */
export interface ReplicaCensus {
  readonly primaries: readonly { readonly address: string; readonly replicas: number }[];
}

/** Which acknowledged write fell short, for the metric. */
export type ReplicatedWrite =
  | 'spool_append'
  | 'receipt'
  | 'idempotency_verdict'
  | 'receipt_update'
  | 'settlement'
  /** The operator commands' moves of entries (dead-letters replay, spool-consumers prune --force). */
  | 'dead_letter_replay'
  | 'consumer_prune';

export interface ReplicaAcks {
  /** The count WAIT must reach; `auto` is resolved from INFO once, on first use. */
  readonly required: () => Promise<number>;
  readonly timeoutMs: number;
  /** What the primaries report right now (startup log). */
  readonly census: () => Promise<ReplicaCensus>;
  /**
   * Registers a script on this connection whose effect is acknowledged to a caller. Its calls
   * resolve once the write is on the primary and, when replicas are required, confirmed by at
   * least that many; otherwise they reject with ReplicationTimeoutError (the write stays on the
   * primary: the caller answers 503, the sender's retry may make a duplicate, never a loss).
   */
  readonly script: (definition: ScriptDefinition, write: ReplicatedWrite) => RunScript;
}

/** Writes per pipeline: enough to amortise a WAIT, few enough not to hold a node for long. */
const MAX_GROUP_COMMIT = 64;
/** Bytes of arguments per pipeline (appends carry request bodies); one larger write goes alone. */
const MAX_GROUP_BYTES = 4 * 1024 * 1024;
/**
 * Writes waiting per node. With a replica gone every pipeline waits the whole timeout, so the
 * queue drains at MAX_GROUP_COMMIT per timeout; past this bound new writes are refused at once.
 */
const MAX_QUEUED = 2048;
/** MOVED/ASK (a slot moved during a failover or resharding): sent again after a slots refresh. */
const MAX_REDIRECTIONS = 3;

function connectedReplicas(info: string): number {
  return Number(/^connected_slaves:(\d+)/m.exec(info)?.[1] ?? 0);
}

async function readCensus(redis: RedisClient): Promise<ReplicaCensus> {
  if (redis instanceof Cluster) {
    const masters = redis.nodes('master');
    if (masters.length === 0)
      throw new CodedError('ERR_REDIS_NOT_READY', 'the Cluster client knows no master yet');
    const primaries = await Promise.all(
      masters.map(async (node) => ({
        address: `${node.options.host ?? '?'}:${String(node.options.port ?? '?')}`,
        replicas: connectedReplicas(await node.info('replication')),
      })),
    );
    return { primaries };
  }
  return {
    primaries: [
      { address: 'primary', replicas: connectedReplicas(await redis.info('replication')) },
    ],
  };
}

interface QueuedWrite {
  readonly lua: string;
  readonly keys: readonly string[];
  readonly args: readonly (string | number | Buffer)[];
  readonly bytes: number;
  readonly write: ReplicatedWrite;
  readonly required: number;
  redirections: number;
  readonly resolve: (reply: unknown) => void;
  readonly reject: (error: unknown) => void;
}

function argumentBytes(args: readonly (string | number | Buffer)[]): number {
  let bytes = 0;
  for (const arg of args) bytes += typeof arg === 'number' ? 8 : arg.length;
  return bytes;
}

function isRedirection(error: Error): boolean {
  return error.message.startsWith('MOVED ') || error.message.startsWith('ASK ');
}

interface CommitGroup {
  readonly queue: QueuedWrite[];
  running: boolean;
}

/**
 * `auto` only ever goes up: a primary that has a replica is expected to keep one, so a replica that
 * goes away later makes acknowledged writes fail (503) instead of silently dropping to no
 * confirmation; while it is 0 (no replica at startup, or one still syncing) the primaries are asked
 * again every 10 s. In Cluster, auto is 1 only when every master has a replica.
 */
export function createReplicaAcks(
  redis: RedisClient,
  policy: ReplicaAckPolicy,
  events: ReplicaAckEvents = {},
  now: () => number = Date.now,
): ReplicaAcks {
  const onTimeout = events.timeout ?? (() => undefined);
  const census = (): Promise<ReplicaCensus> => readCensus(redis);
  const fromCensus = (c: ReplicaCensus): number =>
    c.primaries.every((p) => p.replicas > 0) ? 1 : 0;
  let auto: { value: number; checkedAt: number } | undefined;
  let first: Promise<number> | undefined;
  let recheck: Promise<void> | undefined;
  const required = (): Promise<number> => {
    const fixed = policy.minReplicaAcks;
    if (fixed !== 'auto') return Promise.resolve(fixed);
    if (auto === undefined) {
      first ??= census().then(
        (c) => {
          auto = { value: fromCensus(c), checkedAt: now() };
          return auto.value;
        },
        (error: unknown) => {
          // Not known yet (Redis unreachable): ask again on the next write.
          first = undefined;
          throw error;
        },
      );
      return first;
    }
    const current = auto;
    if (
      current.value === 0 &&
      recheck === undefined &&
      now() - current.checkedAt >= AUTO_RECHECK_MS
    ) {
      // In the background: this write goes on with what is known.
      recheck = census()
        .then((c) => {
          const value = fromCensus(c);
          auto = { value: Math.max(current.value, value), checkedAt: now() };
          if (value > current.value) events.raised?.(value);
        })
        .catch(() => {
          auto = { value: current.value, checkedAt: now() };
        })
        .finally(() => {
          recheck = undefined;
        });
    }
    return Promise.resolve(current.value);
  };

  const groups = new Map<string, CommitGroup>();
  /** The node set serving the first key's slot, as ioredis groups a Cluster pipeline. */
  const groupOf = (keys: readonly string[]): string => {
    if (!(redis instanceof Cluster)) return '';
    const slot = keySlot(keys[0] ?? '');
    return redis.slots[slot]?.join(',') ?? `slot ${slot}`;
  };

  /** Slots moved under a batch: learn the new owners before those writes go again. */
  const refreshSlots = (): Promise<void> =>
    new Promise((resolve) => {
      if (redis instanceof Cluster) {
        redis.refreshSlotsCache(() => {
          resolve();
        });
      } else resolve();
    });

  const commit = async (batch: readonly QueuedWrite[]): Promise<void> => {
    const wanted = Math.max(...batch.map((w) => w.required));
    const pipeline = redis.pipeline();
    for (const item of batch) pipeline.eval(item.lua, item.keys.length, ...item.keys, ...item.args);
    pipeline.wait(wanted, policy.timeoutMs);
    const results = await pipeline.exec();
    const waited = results?.[batch.length];
    const redirected: QueuedWrite[] = [];
    batch.forEach((item, i) => {
      const result = results?.[i];
      if (result === undefined || waited === undefined) {
        item.reject(new CodedError('ERR_REDIS_ABORTED', 'the Redis pipeline was aborted'));
      } else if (result[0] !== null) {
        // A redirected write was not executed: it may go again to the slot's new owner.
        if (isRedirection(result[0]) && item.redirections < MAX_REDIRECTIONS) {
          item.redirections += 1;
          redirected.push(item);
        } else item.reject(result[0]);
      } else if (waited[0] !== null) {
        item.reject(waited[0]);
      } else if (!(Number(waited[1]) >= item.required)) {
        onTimeout(item.write);
        item.reject(new ReplicationTimeoutError(Number(waited[1]), item.required));
      } else {
        item.resolve(result[1]);
      }
    });
    if (redirected.length > 0) {
      await refreshSlots();
      for (const item of redirected) queue(item);
    }
  };

  /** Whole writes up to the count and byte bounds (at least one). */
  const takeBatch = (group: CommitGroup): QueuedWrite[] => {
    let bytes = 0;
    let count = 0;
    for (const item of group.queue) {
      if (count > 0 && (count === MAX_GROUP_COMMIT || bytes + item.bytes > MAX_GROUP_BYTES)) break;
      bytes += item.bytes;
      count += 1;
    }
    return group.queue.splice(0, count);
  };

  const drain = async (key: string, group: CommitGroup): Promise<void> => {
    try {
      // What arrived while a pipeline was out goes together in the next one.
      while (group.queue.length > 0) {
        const batch = takeBatch(group);
        try {
          await commit(batch);
        } catch (error) {
          for (const item of batch) item.reject(error);
        }
      }
    } finally {
      group.running = false;
      if (group.queue.length === 0) groups.delete(key);
    }
  };

  function queue(item: QueuedWrite): void {
    const key = groupOf(item.keys);
    let group = groups.get(key);
    if (group === undefined) {
      group = { queue: [], running: false };
      groups.set(key, group);
    }
    if (group.queue.length >= MAX_QUEUED) {
      item.reject(new ReplicationBacklogError());
      return;
    }
    group.queue.push(item);
    if (!group.running) {
      const current = group;
      group.running = true;
      // The next turn of the event loop: writes of this one go together.
      setImmediate(() => {
        void drain(key, current);
      });
    }
  }

  const enqueue = (
    item: Omit<QueuedWrite, 'resolve' | 'reject' | 'redirections'>,
  ): Promise<unknown> =>
    new Promise((resolve, reject) => {
      queue({ ...item, redirections: 0, resolve, reject });
    });

  return {
    timeoutMs: policy.timeoutMs,
    census,
    required,
    script(definition, write) {
      const plain = defineScript(redis, definition);
      return async (keys, args) => {
        const count = await required();
        if (count === 0) return plain(keys, args);
        return enqueue({
          lua: definition.lua,
          keys,
          args,
          bytes: argumentBytes(args),
          write,
          required: count,
        });
      };
    },
  };
}

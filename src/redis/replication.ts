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

/** How many replicas must confirm an acknowledged write, and for how long to wait for them. */
export interface ReplicaAckPolicy {
  /** A fixed count, or `auto`: 1 when the primary reports a connected replica, else 0. */
  readonly minReplicaAcks: number | 'auto';
  readonly timeoutMs: number;
}

/** Fewer replicas than required confirmed the write in time. The write is on the primary. */
export class ReplicationTimeoutError extends Error {
  readonly acked: number;
  readonly required: number;

  constructor(acked: number, required: number) {
    super(`${acked} of ${required} required Redis replicas confirmed the write in time`);
    this.name = 'ReplicationTimeoutError';
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
  'spool_append' | 'receipt' | 'idempotency_verdict' | 'receipt_update' | 'settlement';

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

function connectedReplicas(info: string): number {
  return Number(/^connected_slaves:(\d+)/m.exec(info)?.[1] ?? 0);
}

async function readCensus(redis: RedisClient): Promise<ReplicaCensus> {
  if (redis instanceof Cluster) {
    const masters = redis.nodes('master');
    if (masters.length === 0) throw new Error('the Cluster client knows no master yet');
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
  readonly name: string;
  readonly keys: readonly string[];
  readonly args: readonly (string | number | Buffer)[];
  readonly write: ReplicatedWrite;
  readonly required: number;
  readonly resolve: (reply: unknown) => void;
  readonly reject: (error: unknown) => void;
}

interface CommitGroup {
  readonly queue: QueuedWrite[];
  running: boolean;
}

/**
 * `auto` looks once: a primary that has a replica is expected to keep one, so a replica that goes
 * away later makes acknowledged writes fail (503) instead of silently dropping to no confirmation.
 * In Cluster, auto is 1 only when every master has a replica.
 */
export function createReplicaAcks(
  redis: RedisClient,
  policy: ReplicaAckPolicy,
  onTimeout: (write: ReplicatedWrite) => void = () => undefined,
): ReplicaAcks {
  let resolved: Promise<number> | undefined;
  const census = (): Promise<ReplicaCensus> => readCensus(redis);
  const required = (): Promise<number> => {
    const fixed = policy.minReplicaAcks;
    if (fixed !== 'auto') return Promise.resolve(fixed);
    resolved ??= census().then(
      (c) => (c.primaries.every((p) => p.replicas > 0) ? 1 : 0),
      (error: unknown) => {
        // Not known yet (Redis unreachable): ask again on the next write.
        resolved = undefined;
        throw error;
      },
    );
    return resolved;
  };

  const groups = new Map<string, CommitGroup>();
  /** The node set serving the first key's slot, as ioredis groups a Cluster pipeline. */
  const groupOf = (keys: readonly string[]): string => {
    if (!(redis instanceof Cluster)) return '';
    const slot = keySlot(keys[0] ?? '');
    return redis.slots[slot]?.join(',') ?? `slot ${slot}`;
  };

  const commit = async (batch: readonly QueuedWrite[]): Promise<void> => {
    const wanted = Math.max(...batch.map((w) => w.required));
    const pipeline = redis.pipeline();
    for (const item of batch) {
      const command: unknown = Reflect.get(pipeline, item.name);
      if (typeof command !== 'function') throw new Error(`${item.name} is not defined`);
      Reflect.apply(command, pipeline, [item.keys.length, ...item.keys, ...item.args]);
    }
    pipeline.wait(wanted, policy.timeoutMs);
    const results = await pipeline.exec();
    const waited = results?.[batch.length];
    batch.forEach((item, i) => {
      const result = results?.[i];
      if (result === undefined || waited === undefined) {
        item.reject(new Error('the Redis pipeline was aborted'));
      } else if (result[0] !== null) {
        item.reject(result[0]);
      } else if (waited[0] !== null) {
        item.reject(waited[0]);
      } else if (!(Number(waited[1]) >= item.required)) {
        onTimeout(item.write);
        item.reject(new ReplicationTimeoutError(Number(waited[1]), item.required));
      } else {
        item.resolve(result[1]);
      }
    });
  };

  const drain = async (key: string, group: CommitGroup): Promise<void> => {
    group.running = true;
    try {
      // What arrived while a pipeline was out goes together in the next one.
      while (group.queue.length > 0) {
        const batch = group.queue.splice(0, MAX_GROUP_COMMIT);
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

  const enqueue = (item: Omit<QueuedWrite, 'resolve' | 'reject'>): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const key = groupOf(item.keys);
      let group = groups.get(key);
      if (group === undefined) {
        group = { queue: [], running: false };
        groups.set(key, group);
      }
      group.queue.push({ ...item, resolve, reject });
      if (!group.running) {
        const current = group;
        group.running = true;
        // The next turn of the event loop: writes of this one go together.
        setImmediate(() => {
          void drain(key, current);
        });
      }
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
        return enqueue({ name: definition.name, keys, args, write, required: count });
      };
    },
  };
}

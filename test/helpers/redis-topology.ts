import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { startRedis, type RedisServer } from './redis-server.ts';
import { waitFor } from './wait.ts';

// Real Redis topologies on loopback for the HA tests: a Cluster of masters with one replica each,
// and a Sentinel group (one master, one replica, three Sentinels). Every process is a redis-server
// (or redis-sentinel) of its own under the watchdog of redis-server.ts, so a node can be SIGKILLed by
// its PID and started again from its directory.

const run = promisify(execFile);

/**
 * The data nodes of both topologies run as production should: AOF on (everysec). A node that is
 * killed and started again comes back with its data; without it, it comes back empty, and if it is
 * then promoted (or picked as a sync source) it wipes its replicas (Redis's own warning; seen here
 * once: a spurious third Sentinel failover promoted the just-restarted, empty node).
 */
const PERSISTENCE = ['--appendonly', 'yes', '--appendfsync', 'everysec'];

export interface NodeAddress {
  readonly host: string;
  readonly port: number;
}

/** A short-lived admin connection to one node (not the gateway's client). */
export async function withNode<T>(port: number, work: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    connectTimeout: 1000,
    commandTimeout: 5000,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await work(redis);
  } finally {
    redis.disconnect();
  }
}

/** `INFO replication` as a field map. */
export async function replicationInfo(port: number): Promise<Map<string, string>> {
  const text = await withNode(port, (redis) => redis.info('replication'));
  const fields = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

export interface ClusterNodeState {
  readonly id: string;
  readonly port: number;
  readonly role: 'master' | 'replica';
  readonly masterId: string | undefined;
  readonly failed: boolean;
  /** Slot ranges `[from, to]` owned (masters). */
  readonly slots: readonly (readonly [number, number])[];
}

/** CLUSTER NODES as seen by one node. */
export function parseClusterNodes(text: string): ClusterNodeState[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id = '', address = '', flags = '', master = '-', , , , , ...slots] = line.split(' ');
      const port = Number(/:(\d+)@/.exec(address)?.[1] ?? '0');
      const flagSet = new Set(flags.split(','));
      return {
        id,
        port,
        role: flagSet.has('master') ? 'master' : 'replica',
        masterId: master === '-' ? undefined : master,
        // `fail?` is one node's suspicion (a busy host can cause it); `fail` is the cluster's verdict.
        failed: flagSet.has('fail'),
        slots: slots
          .filter((s) => !s.startsWith('['))
          .map((s) => {
            const [from = '0', to = from] = s.split('-');
            return [Number(from), Number(to)] as const;
          }),
      };
    });
}

export interface RedisClusterRig {
  readonly nodes: readonly RedisServer[];
  /** Seed addresses for the gateway's `redis.nodes`. */
  readonly seeds: readonly NodeAddress[];
  /** The topology as the first reachable node sees it. */
  topology(): Promise<ClusterNodeState[]>;
  /** The node serving `key`'s slot as master right now. */
  masterOf(key: string): Promise<RedisServer>;
  /** A replica of the master at `masterPort`. */
  replicaOf(masterPort: number): Promise<RedisServer>;
  /** Waits until every slot has a reachable master and every live master has a synced replica. */
  settled(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  readonly masters?: number;
  /** How long until a silent master is failed over (cluster-node-timeout). */
  readonly nodeTimeoutMs?: number;
}

/**
 * `masters` masters with one replica each (`redis-cli --cluster create … --cluster-replicas 1`).
 * Resolves once the cluster is `ok` on every node and every replica has synced.
 */
export async function startRedisCluster(options: ClusterOptions = {}): Promise<RedisClusterRig> {
  const masters = options.masters ?? 3;
  // Short enough for a failover within seconds, long enough that two busy cores do not make a
  // node look dead (seen with 1 s: spurious failovers under the process tests' load).
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 3000;
  const started = await Promise.allSettled(
    Array.from({ length: masters * 2 }, () =>
      startRedis({
        args: [
          ...['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
          ...['--cluster-node-timeout', String(nodeTimeoutMs)],
          ...['--cluster-announce-ip', '127.0.0.1'],
          // A replica that lost its master for a while is still promoted (the default factor
          // of 10 × node timeout would leave a slot masterless after a crash during a resync).
          ...['--cluster-replica-validity-factor', '0'],
          ...PERSISTENCE,
        ],
      }),
    ),
  );
  const nodes: RedisServer[] = [];
  for (const result of started) if (result.status === 'fulfilled') nodes.push(result.value);
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.stop()));
  };
  for (const result of started) {
    if (result.status === 'rejected') {
      await stop();
      throw result.reason;
    }
  }

  const byPort = (port: number): RedisServer => {
    const node = nodes.find((n) => n.port === port);
    if (node === undefined) throw new Error(`no test node on port ${port}`);
    return node;
  };
  const topology = async (): Promise<ClusterNodeState[]> => {
    let lastError: unknown;
    for (const node of nodes) {
      try {
        return parseClusterNodes(
          z.string().parse(await withNode(node.port, (r) => r.call('CLUSTER', 'NODES'))),
        );
      } catch (error) {
        lastError = error;
      }
    }
    throw new Error('no cluster node answers', { cause: lastError });
  };
  const slotOf = async (key: string): Promise<number> =>
    z.number().parse(await withNode(nodes[0]?.port ?? 0, (r) => r.call('CLUSTER', 'KEYSLOT', key)));

  const settled = async (timeoutMs = 30_000): Promise<void> => {
    await waitFor(
      'the cluster to settle: every slot served, every master with a synced replica',
      async () => {
        const states = await topology().catch(() => undefined);
        if (states === undefined) return undefined;
        const liveMasters = states.filter(
          (s) => s.role === 'master' && !s.failed && s.slots.length,
        );
        const covered = liveMasters
          .flatMap((m) => m.slots)
          .reduce((sum, [from, to]) => sum + (to - from + 1), 0);
        if (covered !== 16384) return undefined;
        for (const master of liveMasters) {
          const info = await replicationInfo(master.port).catch(() => undefined);
          const state = await withNode(master.port, (r) => r.call('CLUSTER', 'INFO'))
            .then((text) => String(text))
            .catch(() => '');
          if (!state.includes('cluster_state:ok')) return undefined;
          if (info === undefined || Number(info.get('connected_slaves') ?? 0) < 1) return undefined;
          const replicaLine = info.get('slave0') ?? '';
          if (!replicaLine.includes('state=online')) return undefined;
        }
        return true;
      },
      timeoutMs,
    );
  };

  try {
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...nodes.map((n) => `127.0.0.1:${n.port}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ],
      { timeout: 30_000 },
    );
    await settled();
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    nodes,
    seeds: nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
    topology,
    async masterOf(key) {
      const slot = await slotOf(key);
      const states = await topology();
      const owner = states.find(
        (s) => s.role === 'master' && !s.failed && s.slots.some(([a, b]) => slot >= a && slot <= b),
      );
      if (owner === undefined)
        throw new Error(`no master serves slot ${slot}: ${JSON.stringify(states)}`);
      return byPort(owner.port);
    },
    async replicaOf(masterPort) {
      const states = await topology();
      const master = states.find((s) => s.port === masterPort);
      const replica = states.find((s) => s.masterId === master?.id && !s.failed);
      if (replica === undefined) throw new Error(`the master on ${masterPort} has no replica`);
      return byPort(replica.port);
    },
    settled,
    stop,
  };
}

export interface SentinelRig {
  /** The group's name for `redis.name`. */
  readonly name: string;
  readonly servers: readonly RedisServer[];
  readonly sentinels: readonly RedisServer[];
  /** Sentinel addresses for the gateway's `redis.sentinels`. */
  readonly addresses: readonly NodeAddress[];
  /** The master as the Sentinels report it now. */
  master(): Promise<RedisServer>;
  /** A server that is not the master. */
  replica(): Promise<RedisServer>;
  /** SENTINEL FAILOVER; resolves once the Sentinels report the other server as master. */
  failover(timeoutMs?: number): Promise<RedisServer>;
  /** Waits until the Sentinels report a master other than `port` (an automatic failover). */
  masterOtherThan(port: number, timeoutMs?: number): Promise<RedisServer>;
  /** Waits until the master has `count` replicas online and in sync. */
  replicasOnline(count: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const MasterAddress = z.tuple([z.string(), z.coerce.number()]);

/** One master, one replica and three Sentinels (quorum 2) watching them. */
export async function startSentinelGroup(
  options: {
    readonly downAfterMs?: number;
    readonly failoverTimeoutMs?: number;
    /** Replicas of the master (default 1). */
    readonly replicas?: number;
  } = {},
): Promise<SentinelRig> {
  const name = 'gwmaster';
  // Down after 2 s: on two busy cores a 1 s threshold saw a live master as down.
  const downAfterMs = options.downAfterMs ?? 2000;
  // Sentinel starts another failover of the same master only 2 × this after the last one.
  const failoverTimeoutMs = options.failoverTimeoutMs ?? 3000;
  const master = await startRedis({ args: PERSISTENCE });
  const servers: RedisServer[] = [master];
  const sentinels: RedisServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all([...sentinels, ...servers].map((s) => s.stop()));
  };
  try {
    for (let i = 0; i < (options.replicas ?? 1); i += 1) {
      servers.push(
        await startRedis({
          args: [...PERSISTENCE, '--replicaof', '127.0.0.1', String(master.port)],
        }),
      );
    }
    for (let i = 0; i < 3; i += 1) {
      sentinels.push(
        await startRedis({
          sentinelConfig: () =>
            [
              `sentinel monitor ${name} 127.0.0.1 ${master.port} 2`,
              `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
              `sentinel failover-timeout ${name} ${failoverTimeoutMs}`,
              `sentinel parallel-syncs ${name} 1`,
              '',
            ].join('\n'),
        }),
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }

  const masterPort = async (): Promise<number> => {
    let lastError: unknown;
    for (const sentinel of sentinels) {
      try {
        const reply = await withNode(sentinel.port, (r) =>
          r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name),
        );
        return MasterAddress.parse(reply)[1];
      } catch (error) {
        lastError = error;
      }
    }
    throw new Error('no Sentinel answers', { cause: lastError });
  };
  const byPort = (port: number): RedisServer => {
    const server = servers.find((s) => s.port === port);
    if (server === undefined) throw new Error(`no test server on port ${port}`);
    return server;
  };
  const masterOtherThan = async (before: number, timeoutMs = 30_000): Promise<RedisServer> => {
    const after = await waitFor(
      `the Sentinels to report a master other than ${before}`,
      async () => {
        const port = await masterPort().catch(() => before);
        return port === before ? undefined : port;
      },
      timeoutMs,
    );
    return byPort(after);
  };
  const replicasOnline = async (count: number, timeoutMs = 30_000): Promise<void> => {
    await waitFor(
      `${count} replica(s) online and in sync`,
      async () => {
        const port = await masterPort().catch(() => undefined);
        if (port === undefined) return undefined;
        const info = await replicationInfo(port).catch(() => undefined);
        if (info?.get('role') !== 'master') return undefined;
        const offset = Number(info.get('master_repl_offset') ?? -1);
        let online = 0;
        for (let i = 0; i < Number(info.get('connected_slaves') ?? 0); i += 1) {
          const line = info.get(`slave${i}`) ?? '';
          const lag = Number(/offset=(\d+)/.exec(line)?.[1] ?? -1);
          if (line.includes('state=online') && offset - lag < 1_000_000) online += 1;
        }
        return online >= count ? true : undefined;
      },
      timeoutMs,
    );
  };
  const sentinelsSeeReplica = async (): Promise<void> => {
    await waitFor(
      'every Sentinel to know the replica',
      async () => {
        for (const sentinel of sentinels) {
          const replicas = await withNode(sentinel.port, (r) =>
            r.call('SENTINEL', 'REPLICAS', name),
          ).catch(() => []);
          if (!Array.isArray(replicas) || replicas.length === 0) return undefined;
        }
        return true;
      },
      30_000,
    );
  };

  try {
    await replicasOnline(options.replicas ?? 1);
    await sentinelsSeeReplica();
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    name,
    servers,
    sentinels,
    addresses: sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
    master: async () => byPort(await masterPort()),
    replica: async () => {
      const port = await masterPort();
      const other = servers.find((s) => s.port !== port);
      if (other === undefined) throw new Error('the group has no second server');
      return other;
    },
    async failover(timeoutMs = 30_000) {
      const before = await masterPort();
      const sentinel = sentinels[0];
      if (sentinel === undefined) throw new Error('no Sentinel');
      await withNode(sentinel.port, (r) => r.call('SENTINEL', 'FAILOVER', name));
      return masterOtherThan(before, timeoutMs);
    },
    masterOtherThan,
    replicasOnline,
    stop,
  };
}

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeRedis, createRedis, whenReady, type RedisClient } from '../../src/redis/connect.ts';
import { createReplicaAcks, type ReplicaAcks } from '../../src/redis/replication.ts';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  /** Started as a one-node Redis Cluster (`cluster: true`): clients connect in Cluster mode. */
  readonly cluster: boolean;
  /** Stops the server, waits until the port is closed and removes its directory. Idempotent. */
  stop(): Promise<void>;
  /**
   * Starts it again on the same port. Its directory is kept after kill() (a Cluster node rejoins
   * with its nodes.conf), but no data is persisted: no RDB, no AOF.
   */
  start(): Promise<void>;
  /** SIGKILL to the redis-server process itself (a crash, not a shutdown); keeps its directory. */
  kill(): Promise<void>;
  /** The redis-server process id (from INFO), while it runs. */
  pid(): Promise<number>;
}

export interface StartRedisOptions {
  /** A one-node Redis Cluster owning all 16384 slots (so CROSSSLOT rules apply). */
  readonly cluster?: boolean;
  /** Extra redis-server arguments (e.g. `--cluster-enabled yes` for a node of a real cluster). */
  readonly args?: readonly string[];
  /**
   * `redis-sentinel` runs a Sentinel from the config file that `sentinelConfig` returns for the
   * chosen port (Sentinel rewrites its file, so it lives in the server's own directory).
   */
  readonly sentinelConfig?: (port: number) => string;
  readonly readyTimeoutMs?: number;
}

// The server runs under a small shell watchdog in its own process group: if the test process dies
// without stopping it (crash, runner timeout, SIGKILL), the watchdog notices within ~200 ms and
// kills redis-server, so no test run leaves a server behind.
const WATCHDOG = `
parent=$1; shift
binary=$1; shift
"$binary" "$@" &
child=$!
trap 'kill -TERM $child 2>/dev/null; wait $child; exit 0' TERM INT HUP
while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.2; done
kill -TERM $child 2>/dev/null
wait $child
`;

export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  let lastError: unknown;
  // Another process may take the free port between our probe and redis-server's bind: try again.
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const port = await findFreePort();
    const server = createRedisServer(port, options, readyTimeoutMs);
    try {
      await server.start();
      return server;
    } catch (error) {
      lastError = error;
      await server.stop();
    }
  }
  throw new Error('redis-server did not start', { cause: lastError });
}

function createRedisServer(
  port: number,
  options: StartRedisOptions,
  readyTimeoutMs: number,
): RedisServer {
  const cluster = options.cluster === true;
  let running: { child: ChildProcess; exited: Promise<void>; onExit: () => void } | undefined;
  let dir: string | undefined;

  const killGroup = (child: ChildProcess, signal: NodeJS.Signals): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };

  /** Ends the watchdog's group (SIGTERM, then SIGKILL after 5 s) and waits for the port to close. */
  const halt = async (): Promise<void> => {
    const current = running;
    if (current === undefined) return;
    running = undefined;
    process.removeListener('exit', current.onExit);
    // Held while we wait, so the process cannot end half-way through a stop.
    current.child.ref();
    killGroup(current.child, 'SIGTERM');
    const timeout = new AbortController();
    const killed = await Promise.race([
      current.exited.then(() => true),
      sleep(5000, false, { signal: timeout.signal }).catch(() => false),
    ]);
    timeout.abort();
    if (!killed) {
      killGroup(current.child, 'SIGKILL');
      await current.exited;
    }
    await waitUntilClosed(port);
  };

  const stop = async (): Promise<void> => {
    await halt();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  };

  const pid = async (): Promise<number> => {
    const info = await sendCommand(port, ['INFO', 'server']);
    const found = /process_id:(\d+)/.exec(info)?.[1];
    if (found === undefined) throw new Error(`no process_id in INFO of port ${port}`);
    return Number(found);
  };

  const kill = async (): Promise<void> => {
    const current = running;
    if (current === undefined) return;
    // Held while we wait for the exit, as in halt().
    current.child.ref();
    process.kill(await pid(), 'SIGKILL');
    // The watchdog notices that its child died and exits by itself.
    await current.exited;
    await halt();
  };

  const start = async (): Promise<void> => {
    if (running !== undefined) return;
    dir ??= await mkdtemp(join(tmpdir(), 'gw-redis-'));
    const logfile = join(dir, 'redis.log');
    let binary = 'redis-server';
    let args: string[];
    if (options.sentinelConfig === undefined) {
      args = [
        ...['--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'no'],
        ...['--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', logfile],
        ...(cluster
          ? [
              ...['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
              // A lone node does not know its own address and would list its slots under "".
              ...['--cluster-announce-ip', '127.0.0.1'],
            ]
          : []),
        ...(options.args ?? []),
      ];
    } else {
      binary = 'redis-sentinel';
      const configFile = join(dir, 'sentinel.conf');
      // Written once: after a restart Sentinel goes on from what it rewrote into the file.
      if (!(await exists(configFile))) {
        await writeFile(
          configFile,
          `port ${port}\nbind 127.0.0.1\nprotected-mode no\ndir ${dir}\nlogfile ${logfile}\n` +
            options.sentinelConfig(port),
        );
      }
      args = [configFile];
    }
    const child = spawn(
      'sh',
      ['-c', WATCHDOG, 'redis-watchdog', String(process.pid), binary, ...args],
      { detached: true, stdio: 'ignore' },
    );
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        resolve();
      });
      child.once('error', () => {
        resolve();
      });
    });
    const status = { exited: false };
    void exited.then(() => {
      status.exited = true;
    });
    // A forgotten server must not keep the test process alive; the exit hook still kills it.
    child.unref();
    const onExit = (): void => {
      killGroup(child, 'SIGKILL');
    };
    process.once('exit', onExit);
    running = { child, exited, onExit };

    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      if (status.exited) {
        const log = await readFile(logfile, 'utf8').catch(() => '');
        await stop();
        throw new Error(`redis-server on port ${port} exited during start: ${log.slice(-500)}`);
      }
      const ready = await isReady(port, cluster).catch(() => false);
      if (ready) return;
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`redis-server on port ${port} did not answer PING in ${readyTimeoutMs} ms`);
      }
      await sleep(20);
    }
  };

  return { url: `redis://127.0.0.1:${port}`, port, cluster, stop, start, kill, pid };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function isReady(port: number, cluster: boolean): Promise<boolean> {
  const pong = await sendCommand(port, ['PING']);
  if (pong !== '+PONG') return false;
  if (!cluster) return true;
  const info = await sendCommand(port, ['CLUSTER', 'INFO']);
  if (info.includes('cluster_state:ok')) return true;
  if (info.includes('cluster_slots_assigned:0')) {
    await sendCommand(port, ['CLUSTER', 'ADDSLOTSRANGE', '0', '16383']);
  }
  return false;
}

/** One command over a fresh connection; resolves with the raw reply once it is complete. */
function sendCommand(port: number, words: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const finish = (error?: Error): void => {
      socket.destroy();
      if (error === undefined) resolve(reply.trimEnd());
      else reject(error);
    };
    socket.setTimeout(1000, () => {
      finish(new Error('redis reply timed out'));
    });
    socket.once('error', finish);
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (isCompleteReply(reply)) finish();
    });
    socket.write(
      `*${words.length}\r\n${words.map((w) => `$${Buffer.byteLength(w)}\r\n${w}\r\n`).join('')}`,
    );
  });
}

function isCompleteReply(reply: string): boolean {
  const headerEnd = reply.indexOf('\r\n');
  if (headerEnd < 0) return false;
  if (!reply.startsWith('$') && !reply.startsWith('=')) return true;
  const length = Number(reply.slice(1, headerEnd));
  return length < 0 || reply.length >= headerEnd + 2 + length + 2;
}

export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => {
        if (port === 0) reject(new Error('no port'));
        else resolve(port);
      });
    });
  });
}

async function waitUntilClosed(port: number): Promise<void> {
  for (let i = 0; i < 250; i += 1) {
    const open = await sendCommand(port, ['PING']).then(
      () => true,
      () => false,
    );
    if (!open) return;
    await sleep(20);
  }
}

export interface TestClientOptions {
  /** Bound on each command (default 2000 ms); a test of a Redis outage wants a short one. */
  readonly commandTimeoutMs?: number;
  /** Default 1000 ms. */
  readonly connectTimeoutMs?: number;
  readonly maxReconnectDelayMs?: number;
  /** Connection-level errors, for a test that counts them. */
  readonly onError?: (error: Error) => void;
}

/**
 * A gateway-style connection (createRedis) to a test server, ready for commands: Cluster mode on a
 * one-node cluster, standalone otherwise.
 */
export async function connectTestRedis(
  server: RedisServer,
  options: TestClientOptions = {},
): Promise<RedisClient> {
  const redis = createRedis({
    connection: server.cluster
      ? { mode: 'cluster', nodes: [{ host: '127.0.0.1', port: server.port }] }
      : { mode: 'standalone', url: server.url },
    commandTimeoutMs: options.commandTimeoutMs ?? 2000,
    connectTimeoutMs: options.connectTimeoutMs ?? 1000,
    ...(options.maxReconnectDelayMs === undefined
      ? {}
      : { maxReconnectDelayMs: options.maxReconnectDelayMs }),
    ...(options.onError === undefined ? {} : { onError: options.onError }),
  });
  try {
    // A cluster client is ready once it has read the slots, which takes longer than a PING.
    await whenReady(redis, 10_000);
  } catch (error) {
    await closeRedis(redis);
    throw error;
  }
  return redis;
}

/** The acknowledgement policy of a gateway (default: `auto`, so 0 on a Redis without replicas). */
export function testReplicaAcks(
  redis: RedisClient,
  minReplicaAcks: number | 'auto' = 'auto',
  timeoutMs = 500,
): ReplicaAcks {
  return createReplicaAcks(redis, { minReplicaAcks, timeoutMs });
}

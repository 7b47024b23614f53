import { CodedError } from '../errors/coded-error.ts';
import { Cluster, Redis } from 'ioredis';

export type RedisClient = Redis | Cluster;

export interface RedisAddress {
  readonly host: string;
  readonly port: number;
}

export type RedisConnection =
  | { readonly mode: 'standalone'; readonly url: string }
  | {
      readonly mode: 'sentinel';
      readonly sentinels: readonly RedisAddress[];
      /** Master group name. */
      readonly name: string;
      readonly password?: string | undefined;
      readonly sentinelPassword?: string | undefined;
      readonly db?: number | undefined;
    }
  | {
      readonly mode: 'cluster';
      readonly nodes: readonly RedisAddress[];
      readonly password?: string | undefined;
    };

export interface CreateRedisOptions {
  readonly connection: RedisConnection;
  /** Bound on every command; the request path waits at most this long for Redis. */
  readonly commandTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** Upper bound of the reconnect backoff (default 2000 ms). */
  readonly maxReconnectDelayMs?: number;
  /** Connection-level errors (refused, reset, timeouts while connecting), for logs and metrics. */
  readonly onError?: (error: Error) => void;
}

/**
 * A primary that was demoted (Sentinel switchover, a managed Redis failing over behind one DNS name)
 * answers writes with READONLY: reconnect, which asks the Sentinels (or DNS) for the primary again.
 * The failed command is not resent; its caller sees the error and answers 503 or falls back.
 */
function reconnectOnReadOnly(error: Error): boolean {
  return error.message.startsWith('READONLY');
}

/**
 * The gateway's Redis connection. Calls are bounded and fail fast instead of queueing: with no
 * offline queue and no per-request retries, a command issued while Redis is away rejects at once,
 * so the caller can fall back (rate limits) or answer 503 (idempotency) within its own deadline.
 * The client never gives up reconnecting, so limits resume by themselves when Redis returns.
 *
 * Auto-pipelining (commands of one tick written together) is on for standalone and Sentinel, where
 * there is one connection. In Cluster it is off: ioredis picks an auto-pipeline by the first
 * argument, which for a script call is its key count, not a key, so two script calls of one tick
 * with keys on different masters were sent as one pipeline and both refused ("All keys in the
 * pipeline should belong to the same slots allocation group"). Without it every command is routed
 * by its own keys and follows MOVED/ASK redirections during a failover or resharding on its own.
 */
export function createRedis(options: CreateRedisOptions): RedisClient {
  const maxDelay = options.maxReconnectDelayMs ?? 2000;
  // Exponential from 100 ms, capped: a restarted Redis is picked up within maxDelay.
  const reconnectDelay = (times: number): number =>
    Math.min(50 * 2 ** Math.min(Math.max(times, 1), 16), maxDelay);
  const common = {
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: options.connectTimeoutMs,
    maxRetriesPerRequest: 0,
    enableAutoPipelining: true,
    // ioredis waits this long for a socket to close after end(); a socket that is already gone
    // (Redis down) never says so, and the default 2 s timer would hold shutdown up.
    disconnectTimeout: 200,
    reconnectOnError: reconnectOnReadOnly,
  } as const;
  const report = (error: unknown): void => {
    if (options.onError === undefined) return;
    options.onError(error instanceof Error ? error : new Error(String(error)));
  };

  const { connection } = options;
  let client: RedisClient;
  switch (connection.mode) {
    case 'standalone':
      client = new Redis(connection.url, {
        ...common,
        enableOfflineQueue: false,
        retryStrategy: reconnectDelay,
      });
      break;
    case 'sentinel':
      client = new Redis({
        ...common,
        enableOfflineQueue: false,
        retryStrategy: reconnectDelay,
        sentinelRetryStrategy: reconnectDelay,
        // Subscribes to +switch-master on the Sentinels and reconnects the moment a switchover is
        // announced. Without it the client kept writing to the demoted master for ~10 s, until
        // Sentinel reconfigured it and its resync discarded those writes.
        failoverDetector: true,
        sentinels: connection.sentinels.map((s) => ({ host: s.host, port: s.port })),
        name: connection.name,
        password: connection.password,
        sentinelPassword: connection.sentinelPassword,
        db: connection.db,
      });
      break;
    case 'cluster':
      client = new Cluster(
        connection.nodes.map((n) => ({ host: n.host, port: n.port })),
        {
          enableOfflineQueue: false,
          enableAutoPipelining: false,
          clusterRetryStrategy: reconnectDelay,
          // Nodes that restart without a topology change (e.g. one-node test clusters) come back.
          clusterNodeRetryStrategy: reconnectDelay,
          slotsRefreshTimeout: Math.max(options.connectTimeoutMs, 1000),
          redisOptions: {
            commandTimeout: options.commandTimeoutMs,
            connectTimeout: options.connectTimeoutMs,
            maxRetriesPerRequest: 0,
            disconnectTimeout: 200,
            reconnectOnError: reconnectOnReadOnly,
            password: connection.password,
          },
        },
      );
      client.on('node error', report);
      break;
  }
  // Without a listener ioredis prints every connection error; with one, they become our metric.
  client.on('error', report);
  return client;
}

/** Resolves once the client can serve commands; rejects after timeoutMs (readiness, tests). */
export async function whenReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new CodedError('ERR_REDIS_NOT_READY', `Redis not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = (): void => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}

/**
 * Closes the connection: QUIT when connected (replies in flight still arrive), otherwise drop it
 * at once, which also cancels any pending reconnect.
 */
export async function closeRedis(client: RedisClient): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready') {
    const quit = await client.quit().then(
      () => true,
      () => false,
    );
    if (quit) return;
  }
  client.disconnect();
}

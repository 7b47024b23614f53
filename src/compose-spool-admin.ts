import type { SpoolAdmin } from './cli/spool-admin.ts';
import type { Config } from './config/types.ts';
import { CodedError, InvalidOptionError } from './errors/coded-error.ts';
import { closeRedis, createRedis, whenReady } from './redis/connect.ts';
import { createReplicaAcks } from './redis/replication.ts';
import { createSpoolConsumers } from './spool/consumers.ts';
import { createDeadLetters } from './spool/dead-letters.ts';

// The spool as the operator commands see it (`dead-letters`, `spool-consumers`): one connection
// to the gateway's configured Redis (standalone, Sentinel or Cluster), over the gateway's keys.
// Apart from compose.ts, so that the commands do not build a whole gateway to read a stream.

/** A prune may move a few hundred entries in one script (and WAIT): more room than a request. */
const COMMAND_TIMEOUT_MS = 10_000;

export async function openSpoolAdmin(config: Config): Promise<SpoolAdmin> {
  const redisConfig = config.redis;
  if (redisConfig.mode === 'memory')
    throw new InvalidOptionError(
      'no Redis is configured (REDIS_URL or redis.url/sentinels/nodes): without one there is no shared spool',
    );
  let lastError: Error | undefined;
  const redis = createRedis({
    connection: redisConfig,
    commandTimeoutMs: Math.max(
      COMMAND_TIMEOUT_MS,
      redisConfig.commandTimeoutMs,
      config.spool.replicaAckTimeoutMs + 1000,
    ),
    connectTimeoutMs: redisConfig.connectTimeoutMs,
    onError: (error) => {
      lastError = error;
    },
  });
  try {
    await whenReady(redis, redisConfig.connectTimeoutMs * 2);
  } catch (error) {
    await closeRedis(redis);
    const why = lastError === undefined ? '' : ` (${lastError.message})`;
    const reason = error instanceof Error ? error.message : String(error);
    throw new CodedError('ERR_REDIS_UNAVAILABLE', `cannot reach Redis: ${reason}${why}`, {
      cause: error,
    });
  }
  // Moves are confirmed by the replicas as the gateway's own writes are (spool.min_replica_acks):
  // a replay a failover took back would leave the record in DIS and its dead letter in the stream.
  const acks = createReplicaAcks(redis, {
    minReplicaAcks: config.spool.minReplicaAcks,
    timeoutMs: config.spool.replicaAckTimeoutMs,
  });
  return {
    deadLetters: createDeadLetters({ redis, acks, maxEntries: config.spool.maxEntries }),
    consumers: createSpoolConsumers({ redis, acks }),
    close: () => closeRedis(redis),
  };
}

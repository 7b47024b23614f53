import { randomBytes, randomUUID } from 'node:crypto';
import type { Express } from 'express';
import { AuthError } from './auth/auth-errors.ts';
import { CodedError, InvariantError } from './errors/coded-error.ts';
import { createJwtVerifier, type TokenVerifier } from './auth/jwt-verifier.ts';
import { mintToken } from './auth/mint-token.ts';
import type { Config, JwtAlgorithm, StreamConfig } from './config/types.ts';
import type { Logger } from './observability/logger.ts';
import {
  cachedChildren,
  createMetrics,
  registerSpoolGauges,
  type BuildInfo,
  type Metrics,
} from './observability/metrics.ts';
import type { DisClient } from './dis/client.ts';
import { base64RawLength } from './dis/chunk.ts';
import { breakerStates, composeDisTargets, createRoutingSink } from './compose-dis.ts';
import { DEFAULT_TIMEOUTS, requestBoundMs } from './dis/transport.ts';
import { createApp } from './http/app.ts';
import { composeFrontdoor, type DevFrontdoorClient } from './compose-frontdoor.ts';
import type { RecordsStream } from './http/routes/records.ts';
import { createMemoryIdempotencyStore } from './idempotency/memory-store.ts';
import { createRedisIdempotencyStore } from './idempotency/redis-store.ts';
import type { IdempotencyStore } from './idempotency/types.ts';
import { createDisSink } from './ingest/dis-sink.ts';
import { createBatcher } from './ingest/batcher.ts';
import { createOrderedSink } from './ingest/ordered-sink.ts';
import { createIngest, type RecordSink } from './ingest/ingest.ts';
import { toJsonPointer } from './json/pointer.ts';
import { createAcceptDelivery } from './ingest/accept-delivery.ts';
import { createAcceptRecords } from './ingest/accept-records.ts';
import { createHandOff } from './ingest/hand-off.ts';
import { createFindReceipt } from './ingest/receipts.ts';
import { RECORDS_RENDER } from './http/records-answers.ts';
import { createMemoryRateLimiter } from './ratelimit/memory-limiter.ts';
import { createRateLimitPolicy } from './ratelimit/policy.ts';
import { createRedisRateLimiter } from './ratelimit/redis-limiter.ts';
import type { RateLimitPolicy, RateLimiter } from './ratelimit/types.ts';
import { createArrivalGate } from './ratelimit/arrival-gate.ts';
import { closeRedis, createRedis, whenReady, type RedisClient } from './redis/connect.ts';
import { checkRedisPersistence } from './redis/persistence-check.ts';
import { createReplicaAcks, type ReplicaAcks } from './redis/replication.ts';
import { createForwarder, type Forwarder } from './spool/forwarder.ts';
import { createSpool, type Spool } from './spool/spool.ts';
import type { WebhookSource } from './http/routes/webhooks.ts';
import {
  createMemoryReplayGuard,
  createRedisReplayGuard,
  type ReplayGuard,
} from './webhooks/replay-guard.ts';
import { createWebhookVerifier } from './webhooks/verifier.ts';

// Builds the gateway's parts from a Config. It opens clients (Redis, DIS pools, the embedded emulator
// in dev mode) but never listens, reads the environment, prints or exits: main.ts does that.

export interface ComposeEdges {
  readonly now: () => number;
  /** Names this process among the instances (host and pid): the spool forwarder's consumer name. */
  readonly instanceId: string;
  /** The process's drain state (main.ts); answers close their connection while draining. */
  readonly draining?: () => boolean;
  readonly logger: Logger;
  /** The running version (main.ts reads package.json): gateway_build_info and DIS's User-Agent. */
  readonly build: BuildInfo;
}

export interface DevInfo {
  readonly emulatorUrl?: string;
  readonly redis: 'memory' | 'redis';
  /** A short-lived token for every stream, signed with the dev secret. */
  readonly token?: string;
  /** An AK/SK for the DIS front door, made at startup, for every stream. */
  readonly frontdoor?: DevFrontdoorClient;
}

/** Redis is set up so that it can lose acknowledged data (production refuses to start). */
export class StartupRefusedError extends CodedError<'ERR_STARTUP_REFUSED'> {
  readonly reasons: readonly string[];

  constructor(reasons: readonly string[]) {
    super(
      'ERR_STARTUP_REFUSED',
      `refusing to start:\n${reasons.map((r) => `  - ${r}`).join('\n')}`,
    );
    this.reasons = reasons;
  }
}

export interface Gateway {
  readonly app: Express;
  readonly metrics: Metrics;
  readonly dev: DevInfo | undefined;
  /**
   * Resolves once Redis (when configured) is connected and its settings are checked, or after
   * `timeoutMs` with a warning: the gateway still starts, and the rate limiter's Redis policy covers
   * the time until it connects. Rejects with StartupRefusedError in production when Redis can evict
   * what the gateway acknowledged.
   */
  readonly ready: (timeoutMs: number) => Promise<void>;
  /** Starts background work: the spool forwarder (when there is a spool). */
  readonly start: () => void;
  /** Stops the forwarder (unacked entries stay pending for other instances), then closes clients. */
  readonly close: () => Promise<void>;
}

function webhookSources(
  config: Config,
  streams: ReadonlyMap<string, RecordsStream>,
): Map<string, WebhookSource> {
  const sources = new Map<string, WebhookSource>();
  for (const [name, source] of Object.entries(config.webhooks.sources)) {
    const stream = streams.get(source.stream);
    // loadConfig has checked that every source names a configured stream.
    if (stream === undefined)
      throw new InvariantError(`webhook source ${name}: unknown stream ${source.stream}`);
    const partitionKeyPointer = toJsonPointer(source.partitionKeyPointer, 'partition_key_pointer');
    sources.set(name, {
      name,
      config: source,
      verifier: createWebhookVerifier(source),
      stream,
      partitionKeyPointer,
    });
  }
  return sources;
}

function composeForwarder(
  config: Config,
  stores: StoreParts,
  client: Pick<DisClient, 'putRecords'>,
  edges: ComposeEdges,
  metrics: Metrics,
): Forwarder | undefined {
  const { durableRedis: redis, acks } = stores;
  if (redis === undefined || acks === undefined) return undefined;
  const unique = new Map<string, { disStream: string; streamId?: string }>();
  for (const s of Object.values(config.streams)) {
    unique.set(
      s.disStream,
      s.streamId === undefined
        ? { disStream: s.disStream }
        : { disStream: s.disStream, streamId: s.streamId },
    );
  }
  return createForwarder({
    redis,
    acks,
    client,
    streams: [...unique.values()],
    consumer: `${edges.instanceId}-${randomBytes(4).toString('hex')}`,
    ...config.spool,
    now: edges.now,
    events: {
      written: (n) => {
        metrics.forwarderRecords.inc({ result: 'written' }, n);
      },
      retried: (n) => {
        metrics.forwarderRecords.inc({ result: 'retried' }, n);
      },
      deadLettered: (n) => {
        metrics.forwarderRecords.inc({ result: 'dead_lettered' }, n);
        edges.logger.warn({ records: n }, 'spooled records dead-lettered');
      },
      claimed: (n) => {
        metrics.forwarderRecords.inc({ result: 'claimed' }, n);
        metrics.disPossibleDuplicates.inc(n);
      },
      error: (error) => {
        edges.logger.warn({ err: error }, 'spool forwarder error');
      },
    },
  });
}

interface BackgroundWork {
  readonly add: (task: Promise<void>) => void;
  /** Resolves when every task added so far has settled. */
  readonly settled: () => Promise<void>;
}

function createBackgroundWork(onError: (error: unknown) => void): BackgroundWork {
  const tasks = new Set<Promise<void>>();
  return {
    add(task) {
      const tracked = task.catch(onError).finally(() => {
        tasks.delete(tracked);
      });
      tasks.add(tracked);
    },
    settled: async () => {
      while (tasks.size > 0) await Promise.all(tasks);
    },
  };
}

function recordsStreams(
  streams: Readonly<Record<string, StreamConfig>>,
): Map<string, RecordsStream> {
  return new Map(
    Object.entries(streams).map(([name, s]) => [
      name,
      {
        name,
        disStream: s.disStream,
        streamId: s.streamId,
        disTarget: s.disTarget,
        partitions: s.partitions,
        partitionKeyPointer: toJsonPointer(s.partitionKeyPointer, 'partition_key_pointer'),
        ...(s.ordering === 'per_key' ? { ordering: 'per_key' as const } : {}),
      },
    ]),
  );
}

/** Refused tokens by reason: the caller sees one 401, the operator sees why. */
function countAuthFailures(verifier: TokenVerifier, metrics: Metrics): TokenVerifier {
  return {
    authenticate: async (authorization) => {
      try {
        return await verifier.authenticate(authorization);
      } catch (error) {
        if (error instanceof AuthError) metrics.authFailures.inc({ reason: error.reason });
        throw error;
      }
    },
    close: () => verifier.close(),
  };
}

/** Whether the client has been ready at least once since it was created. */
function reachedOnce(redis: RedisClient): () => boolean {
  let reached = redis.status === 'ready';
  redis.once('ready', () => {
    reached = true;
  });
  return () => (reached ||= redis.status === 'ready');
}

function countDecisions(limiter: RateLimiter, metrics: Metrics): RateLimiter {
  return {
    check: async (input) => {
      const decision = await limiter.check(input);
      metrics.rateLimitDecisions.inc({
        result: decision.allowed ? 'allowed' : 'limited',
        source: decision.source,
      });
      return decision;
    },
  };
}

interface StoreParts {
  readonly rateLimitPolicy: RateLimitPolicy;
  readonly rateLimiter: RateLimiter;
  readonly idempotency: IdempotencyStore;
  readonly replayGuard: ReplayGuard;
  readonly spool: Spool | undefined;
  /** Rate limits and the replay guard: tight command timeout. */
  readonly redis: RedisClient | undefined;
  /** Acknowledged writes (spool, idempotency, receipts) and the forwarder's template. */
  readonly durableRedis: RedisClient | undefined;
  readonly acks: ReplicaAcks | undefined;
}

/** How long a DIS call in flight at its caller's deadline may still run: one request's bound. */
function lateAnswerMs(config: Config): number {
  const bounds = Object.values(config.disTargets).map((target) =>
    requestBoundMs({
      connectMs: target.connectTimeoutMs,
      headersMs: target.requestTimeoutMs,
      bodyMs: target.requestTimeoutMs,
    }),
  );
  const main =
    config.dis.mode === 'remote'
      ? requestBoundMs({
          connectMs: config.dis.connectTimeoutMs,
          headersMs: config.dis.requestTimeoutMs,
          bodyMs: config.dis.requestTimeoutMs,
        })
      : requestBoundMs(DEFAULT_TIMEOUTS);
  // The slowest target's: a caller's records may be in any of them.
  return Math.max(main, ...bounds);
}

/**
 * A delivery's claim stays pending at most as long as accepting it can take: the sync wait, a DIS
 * call that outlives it, and a margin.
 */
function replayPendingTtlS(config: Config): number {
  return Math.ceil((config.webhooks.syncWaitMs + lateAnswerMs(config)) / 1000) + 10;
}

function composeStores(config: Config, edges: ComposeEdges, metrics: Metrics): StoreParts {
  const policy = createRateLimitPolicy({ ...config.limits, streams: config.streams });
  const memoryLimiter = createMemoryRateLimiter({ policy, now: edges.now });
  const ttlMs = config.idempotency.ttlS * 1000;
  const redisConfig = config.redis;
  if (redisConfig.mode === 'memory') {
    return {
      rateLimitPolicy: policy,
      rateLimiter: countDecisions(memoryLimiter, metrics),
      idempotency: createMemoryIdempotencyStore({ ttlMs, now: edges.now }),
      replayGuard: createMemoryReplayGuard({
        ttlS: config.webhooks.replayTtlS,
        pendingTtlS: replayPendingTtlS(config),
        now: edges.now,
      }),
      spool: undefined,
      redis: undefined,
      durableRedis: undefined,
      acks: undefined,
    };
  }
  const redis = createRedis({
    connection: redisConfig,
    commandTimeoutMs: redisConfig.commandTimeoutMs,
    connectTimeoutMs: redisConfig.connectTimeoutMs,
    onError: (error) => {
      metrics.redisErrors.inc({ connection: 'main' });
      edges.logger.warn({ err: error }, 'redis connection error');
    },
  });
  // Acknowledged writes get their own connection: appends carry up to a request's body (MiBs), and
  // each is followed by a WAIT for the replicas that blocks its connection until they confirm. The
  // timeout fits both, while rate-limit calls keep their tight bound on the other connection.
  const durableRedis = createRedis({
    connection: redisConfig,
    commandTimeoutMs: Math.max(
      1000,
      redisConfig.commandTimeoutMs,
      config.spool.replicaAckTimeoutMs + 1000,
    ),
    connectTimeoutMs: redisConfig.connectTimeoutMs,
    onError: (error) => {
      metrics.redisErrors.inc({ connection: 'spool' });
      edges.logger.warn({ err: error }, 'redis connection error (spool)');
    },
  });
  const acks = createReplicaAcks(
    durableRedis,
    { minReplicaAcks: config.spool.minReplicaAcks, timeoutMs: config.spool.replicaAckTimeoutMs },
    {
      timeout: (write) => {
        metrics.redisReplicationTimeouts.inc({ write });
      },
      raised: (required) => {
        edges.logger.info(
          `a Redis replica is connected now: acknowledged writes wait for ${required} (spool.min_replica_acks auto)`,
        );
      },
    },
    edges.now,
  );
  return {
    rateLimitPolicy: policy,
    rateLimiter: countDecisions(
      createRedisRateLimiter({
        redis,
        policy,
        onError: redisConfig.onError,
        fallback: memoryLimiter,
        now: edges.now,
        events: {
          fallback: () => {
            metrics.rateLimitFallbacks.inc();
          },
        },
      }),
      metrics,
    ),
    idempotency: createRedisIdempotencyStore({ redis: durableRedis, acks, ttlMs }),
    replayGuard: createRedisReplayGuard({
      redis,
      ttlS: config.webhooks.replayTtlS,
      pendingTtlS: replayPendingTtlS(config),
    }),
    spool: createSpool({ redis: durableRedis, acks, ...config.spool, now: edges.now }),
    redis,
    durableRedis,
    acks,
  };
}

/**
 * Startup checks of a reachable Redis: an eviction policy that can drop acknowledged data refuses
 * the start in production (a warning in dev mode), and the replica count that acknowledgements
 * will wait for is said out loud.
 */
async function checkRedisAtStart(
  config: Config,
  stores: StoreParts,
  logger: Logger,
): Promise<void> {
  const { durableRedis, acks } = stores;
  if (durableRedis === undefined || acks === undefined) return;
  const findings = await checkRedisPersistence(durableRedis);
  for (const warning of findings.warnings) logger.warn(warning);
  if (findings.refusals.length > 0) {
    if (config.production) throw new StartupRefusedError(findings.refusals);
    for (const refusal of findings.refusals) logger.warn(`${refusal} (refused in production)`);
  }
  const census = await acks.census();
  const required = await acks.required();
  const setting = `spool.min_replica_acks ${String(config.spool.minReplicaAcks)}`;
  const replicas = census.primaries.map((p) => `${p.address}: ${p.replicas}`).join(', ');
  if (required === 0) {
    const why =
      config.spool.minReplicaAcks === 'auto'
        ? `Redis has no replica to confirm writes (${replicas} connected; ${setting})`
        : `acknowledged writes are not confirmed by Redis replicas (${setting}; connected replicas: ${replicas})`;
    logger.warn(
      `${why}: a 202, a stored idempotent verdict and a receipt are acknowledged once on the primary, so a failover can lose them`,
    );
  } else {
    const short = census.primaries.filter((p) => p.replicas < required);
    const message = `acknowledged writes wait for ${required} Redis replica(s), at most ${config.spool.replicaAckTimeoutMs} ms (${setting}; connected replicas: ${replicas})`;
    if (short.length > 0) {
      logger.warn(`${message}; fewer are connected now, so those writes answer 503 until they are`);
    } else logger.info(message);
  }
}

interface AuthParts {
  readonly verifier: TokenVerifier;
  readonly devSecret?: string;
}

function composeAuth(config: Config, edges: ComposeEdges, metrics: Metrics): AuthParts {
  const jwt = config.auth.jwt;
  const devSecret = jwt.dev ? randomBytes(32).toString('base64url') : undefined;
  const algorithms: readonly JwtAlgorithm[] = devSecret === undefined ? jwt.algorithms : ['HS256'];
  const verifier = createJwtVerifier({
    ...jwt,
    algorithms,
    secrets: devSecret === undefined ? jwt.secrets : [devSecret],
    now: edges.now,
    onJwksError: (error) => {
      edges.logger.warn({ err: error }, 'JWKS fetch failed');
    },
  });
  const counted = countAuthFailures(verifier, metrics);
  return devSecret === undefined ? { verifier: counted } : { verifier: counted, devSecret };
}

export async function composeGateway(config: Config, edges: ComposeEdges): Promise<Gateway> {
  const metrics = createMetrics(edges.build);
  const dis = await composeDisTargets(config, edges, metrics);
  const stores = composeStores(config, edges, metrics);
  if (stores.spool !== undefined) {
    const { spool } = stores;
    const disStreams = [...new Set(Object.values(config.streams).map((s) => s.disStream))];
    registerSpoolGauges(metrics, { stats: () => spool.stats(disStreams) });
  }
  const auth = composeAuth(config, edges, metrics);
  const batching = config.ingest.batching;
  // One batcher per DIS target, each sized by its client: its queues, in-flight calls and
  // overload are its own, so one project's trouble does not hold another's records.
  const sinks = new Map<string, RecordSink>();
  for (const [name, target] of dis.byName) {
    sinks.set(
      name,
      batching.enabled
        ? createBatcher({
            client: target.client,
            lingerMs: batching.lingerMs,
            maxRecords: target.limits.maxRecordsPerRequest,
            maxBytes: target.limits.maxBytesPerRequest,
            maxInFlight: batching.maxInFlight,
            maxQueuedRecords: batching.maxQueuedRecords,
            now: edges.now,
            monotonicNow: () => performance.now(),
          })
        : createDisSink(target.client),
    );
  }
  const routed = createRoutingSink(sinks);
  // Per-key streams go through lanes first; without one, nothing is in the way.
  const sink = Object.values(config.streams).some((s) => s.ordering === 'per_key')
    ? createOrderedSink({ inner: routed, now: edges.now })
    : routed;
  const ingest = createIngest({ sink, randomKey: randomUUID });
  // The forwarder knows a spool by its DIS stream name, which config keeps to one target.
  const targetOf = new Map(Object.values(config.streams).map((s) => [s.disStream, s.disTarget]));
  // The forwarder's batches go through the same sink, so spooled and live records share PutRecords.
  const forwarderClient: Pick<DisClient, 'putRecords'> = {
    putRecords: (input) =>
      sink.put({
        target: {
          name: input.streamName,
          disStream: input.streamName,
          streamId: input.streamId,
          disTarget: targetOf.get(input.streamName),
        },
        entries: input.records,
        bytes: input.records.reduce((sum, entry) => sum + base64RawLength(entry.data), 0),
        deadline: input.deadline,
      }),
  };
  const streams = recordsStreams(config.streams);
  const background = createBackgroundWork((error) => {
    edges.logger.warn({ err: error }, 'background work after an answer failed');
  });
  const forwarder = composeForwarder(config, stores, forwarderClient, edges, metrics);
  const countPossibleDuplicates = (count: number): void => {
    metrics.disPossibleDuplicates.inc(count);
  };
  const { redis } = stores;
  const recordCounter = cachedChildren((stream, outcome) =>
    metrics.records.labels({ stream, outcome }),
  );
  const handOff = createHandOff({
    ingest,
    spool: stores.spool,
    now: edges.now,
    background: background.add,
    events: {
      records: (stream, outcome, count) => {
        recordCounter(stream, outcome).inc(count);
      },
      possibleDuplicates: countPossibleDuplicates,
      late: (event) => {
        edges.logger.info(event, 'a DIS call that outlived its caller’s wait has settled');
      },
    },
  });
  const arrival = createArrivalGate(stores.rateLimiter, {
    policy: stores.rateLimitPolicy,
    now: edges.now,
  });
  const arrivalRefusals = {
    refusal: (principal: string, stream: string) => {
      const refusal = arrival.refusal(principal, stream);
      if (refusal !== undefined)
        metrics.rateLimitDecisions.inc({ result: 'limited', source: refusal.source });
      return refusal;
    },
  };
  const frontdoor = composeFrontdoor({
    config,
    dis,
    streams,
    verifier: auth.verifier,
    rateLimiter: arrival.limiter,
    arrival: arrivalRefusals,
    handOff,
    idempotency: stores.idempotency,
    lateAnswerMs: lateAnswerMs(config),
    background: background.add,
    metrics,
    logger: edges.logger,
    now: edges.now,
  });
  const app = createApp({
    logger: edges.logger,
    metrics,
    health: {
      redis: redis === undefined ? undefined : () => (redis.status === 'ready' ? 'up' : 'down'),
      redisRequired: config.redis.mode !== 'memory' && config.redis.onError === 'fail-closed',
      redisReached: redis === undefined ? undefined : reachedOnce(redis),
      disBreaker: () => breakerStates(dis).worst,
      ...(dis.byName.size > 1 ? { disBreakers: () => breakerStates(dis).each } : {}),
    },
    records: {
      streams,
      verifier: auth.verifier,
      rateLimiter: arrival.limiter,
      arrival: arrivalRefusals,
      acceptRecords: createAcceptRecords({
        handOff,
        idempotency: stores.idempotency,
        render: RECORDS_RENDER,
        lateAnswerMs: lateAnswerMs(config),
        background: background.add,
        events: {
          possibleDuplicates: countPossibleDuplicates,
          verdictNotStored: (error) => {
            edges.logger.warn({ err: error }, 'an idempotent verdict could not be stored');
          },
        },
      }),
      limits: {
        bodyLimitBytes: config.server.bodyLimitBytes,
        maxRecordsPerRequest: config.limits.maxRecordsPerRequest,
        maxRecordBytes: config.limits.maxRecordBytes,
        maxJsonDepth: config.limits.maxJsonDepth,
      },
      wait: { defaultMs: config.server.defaultWaitMs, maxMs: config.server.maxWaitMs },
    },
    webhooks: {
      sources: webhookSources(config, streams),
      acceptDelivery: createAcceptDelivery({
        handOff,
        replayGuard: stores.replayGuard,
        events: { possibleDuplicates: countPossibleDuplicates },
      }),
      now: edges.now,
      maxRecordBytes: config.limits.maxRecordBytes,
      syncWaitMs: config.webhooks.syncWaitMs,
      onVerification: (source, result) => {
        metrics.webhookVerifications.inc({ source, result });
      },
    },
    receipts: { verifier: auth.verifier, findReceipt: createFindReceipt(stores.spool) },
    frontdoor: frontdoor?.route,
    trustProxy: config.server.trustProxy,
    ...(edges.draining === undefined ? {} : { draining: edges.draining }),
    onUnexpectedError: (error, req) => {
      const locals = req.res?.locals;
      edges.logger.error(
        { err: error, req_id: locals?.requestId, trace_id: locals?.trace?.traceId },
        'unexpected error while handling a request',
      );
    },
  });

  const dev: DevInfo | undefined = config.production
    ? undefined
    : {
        redis: stores.redis === undefined ? 'memory' : 'redis',
        ...(dis.main.emulatorUrl === undefined ? {} : { emulatorUrl: dis.main.emulatorUrl }),
        ...(frontdoor?.devClient === undefined ? {} : { frontdoor: frontdoor.devClient }),
        ...(auth.devSecret === undefined
          ? {}
          : {
              token: mintToken({
                secret: auth.devSecret,
                issuer: config.auth.jwt.issuer[0] ?? 'dis-gateway-dev',
                audience: config.auth.jwt.audience[0] ?? 'dis-gateway',
                subject: 'dev',
                scopes: ['dis:write:*'],
                lifetimeS: 3600,
                now: edges.now(),
              }),
            }),
      };

  return {
    app,
    metrics,
    dev,
    ready: async (timeoutMs) => {
      const { durableRedis } = stores;
      if (redis === undefined || durableRedis === undefined) return;
      try {
        await Promise.all([whenReady(redis, timeoutMs), whenReady(durableRedis, timeoutMs)]);
      } catch (error) {
        edges.logger.warn(
          { err: error },
          `Redis is not reachable after ${timeoutMs} ms; starting anyway, without checking its eviction policy and replicas`,
        );
        return;
      }
      try {
        await checkRedisAtStart(config, stores, edges.logger);
      } catch (error) {
        if (error instanceof StartupRefusedError) throw error;
        edges.logger.warn({ err: error }, 'Redis settings could not be checked; starting anyway');
      }
    },
    start: () => {
      forwarder?.start();
    },
    close: async () => {
      await forwarder?.stop();
      await auth.verifier.close();
      await frontdoor?.close();
      // DIS calls still running (after their callers' 504) finish first, then settle their keys.
      await dis.close();
      await background.settled();
      if (redis !== undefined) await closeRedis(redis);
      if (stores.durableRedis !== undefined) await closeRedis(stores.durableRedis);
    },
  };
}

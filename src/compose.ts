import { randomBytes, randomUUID } from 'node:crypto';
import type { Express } from 'express';
import { createJwtVerifier, type TokenVerifier } from './auth/jwt-verifier.ts';
import { mintToken } from './auth/mint-token.ts';
import type { Config, JwtAlgorithm, StreamConfig } from './config/types.ts';
import { createDisClient, type DisAuth, type DisClient } from './dis/client.ts';
import { createIamTokenProvider, type TokenProvider } from './dis/token-provider.ts';
import { createApp } from './http/app.ts';
import type { RecordsStream } from './http/routes/records.ts';
import { createMemoryIdempotencyStore } from './idempotency/memory-store.ts';
import { createRedisIdempotencyStore } from './idempotency/redis-store.ts';
import type { IdempotencyStore } from './idempotency/types.ts';
import { createDisSink } from './ingest/dis-sink.ts';
import { createIngest } from './ingest/ingest.ts';
import { createMemoryRateLimiter } from './ratelimit/memory-limiter.ts';
import { createRateLimitPolicy } from './ratelimit/policy.ts';
import { createRedisRateLimiter } from './ratelimit/redis-limiter.ts';
import type { RateLimiter } from './ratelimit/types.ts';
import { closeRedis, createRedis, whenReady, type RedisClient } from './redis/connect.ts';

// Builds the gateway's parts from a Config. It opens clients (Redis, DIS pools, the embedded emulator
// in dev mode) but never listens, reads the environment, prints or exits: main.ts does that.

export interface ComposeEdges {
  readonly now: () => number;
  /** Where non-request problems go (Redis connection errors, JWKS fetch failures, 500s). */
  readonly warn: (message: string, error?: unknown) => void;
}

export interface DevInfo {
  readonly emulatorUrl?: string;
  readonly redis: 'memory' | 'redis';
  /** A short-lived token for every stream, signed with the dev secret. */
  readonly token?: string;
}

export interface Gateway {
  readonly app: Express;
  readonly dev: DevInfo | undefined;
  /**
   * Resolves once Redis (when configured) is connected, or after `timeoutMs` with a warning: the
   * gateway still starts, and the rate limiter's Redis policy covers the time until it connects.
   */
  readonly ready: (timeoutMs: number) => Promise<void>;
  readonly close: () => Promise<void>;
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
        partitions: s.partitions,
        partitionKeyPointer: s.partitionKeyPointer,
      },
    ]),
  );
}

interface DisParts {
  readonly client: DisClient;
  readonly emulatorUrl?: string;
  readonly close: () => Promise<void>;
}

async function composeDis(config: Config, edges: ComposeEdges): Promise<DisParts> {
  const dis = config.dis;
  if (dis.mode === 'embedded') {
    // Dev only: the emulator is loaded on demand so production never imports it.
    const { createEmulator, DEV_CREDENTIALS } = await import('./emulator/emulator.ts');
    const credentials = DEV_CREDENTIALS[0];
    if (credentials === undefined) throw new Error('the emulator has no dev credentials');
    const emulator = await createEmulator({
      streams: Object.values(config.streams).map((s) => ({
        name: s.disStream,
        partitions: s.partitions,
        type: s.type,
      })),
    });
    const client = createDisClient({
      endpoint: emulator.url,
      projectId: emulator.projectId,
      auth: { type: 'aksk', credentials },
      now: edges.now,
    });
    return {
      client,
      emulatorUrl: emulator.url,
      close: async () => {
        await client.close();
        await emulator.close();
      },
    };
  }
  let auth: DisAuth;
  let tokens: TokenProvider | undefined;
  if (dis.auth.type === 'token') {
    tokens = createIamTokenProvider({
      endpoint: dis.auth.iamEndpoint,
      user: { name: dis.auth.user, password: dis.auth.password, domain: dis.auth.domain },
      projectId: dis.projectId,
      now: edges.now,
    });
    auth = { type: 'token', tokens };
  } else {
    const { ak, sk, securityToken } = dis.auth;
    auth = { type: 'aksk', credentials: { ak, sk, securityToken } };
  }
  const client = createDisClient({
    endpoint: dis.endpoint,
    projectId: dis.projectId,
    auth,
    now: edges.now,
    limits: {
      maxRecordsPerRequest: dis.maxRecordsPerRequest,
      maxBytesPerRequest: dis.maxBytesPerRequest,
      maxConcurrentRequests: dis.maxConcurrentRequests,
    },
    timeouts: {
      connectMs: dis.connectTimeoutMs,
      headersMs: dis.requestTimeoutMs,
      bodyMs: dis.requestTimeoutMs,
    },
    breaker: dis.breaker,
  });
  return {
    client,
    close: async () => {
      await client.close();
      await tokens?.close();
    },
  };
}

interface StoreParts {
  readonly rateLimiter: RateLimiter;
  readonly idempotency: IdempotencyStore;
  readonly redis: RedisClient | undefined;
}

function composeStores(config: Config, edges: ComposeEdges): StoreParts {
  const policy = createRateLimitPolicy({
    default: config.limits.default,
    principals: config.limits.principals,
    streams: config.streams,
  });
  const memoryLimiter = createMemoryRateLimiter({ policy, now: edges.now });
  const ttlMs = config.idempotency.ttlS * 1000;
  const redisConfig = config.redis;
  if (redisConfig.mode === 'memory') {
    return {
      rateLimiter: memoryLimiter,
      idempotency: createMemoryIdempotencyStore({ ttlMs, now: edges.now }),
      redis: undefined,
    };
  }
  const redis = createRedis({
    connection: redisConfig,
    commandTimeoutMs: redisConfig.commandTimeoutMs,
    connectTimeoutMs: redisConfig.connectTimeoutMs,
    onError: (error) => {
      edges.warn('redis connection error', error);
    },
  });
  return {
    rateLimiter: createRedisRateLimiter({
      redis,
      policy,
      onError: redisConfig.onError,
      fallback: memoryLimiter,
      now: edges.now,
    }),
    idempotency: createRedisIdempotencyStore({ redis, ttlMs }),
    redis,
  };
}

interface AuthParts {
  readonly verifier: TokenVerifier;
  readonly devSecret?: string;
}

function composeAuth(config: Config, edges: ComposeEdges): AuthParts {
  const jwt = config.auth.jwt;
  const devSecret = jwt.dev ? randomBytes(32).toString('base64url') : undefined;
  const algorithms: readonly JwtAlgorithm[] = devSecret === undefined ? jwt.algorithms : ['HS256'];
  const verifier = createJwtVerifier({
    algorithms,
    issuer: jwt.issuer,
    audience: jwt.audience,
    secrets: devSecret === undefined ? jwt.secrets : [devSecret],
    publicKeys: jwt.publicKeys,
    ...(jwt.jwksUrl === undefined ? {} : { jwksUrl: jwt.jwksUrl }),
    jwksRefreshIntervalMs: jwt.jwksRefreshIntervalMs,
    principalClaim: jwt.principalClaim,
    scopeClaim: jwt.scopeClaim,
    clockToleranceS: jwt.clockToleranceS,
    ...(jwt.maxTokenAgeS === undefined ? {} : { maxTokenAgeS: jwt.maxTokenAgeS }),
    now: edges.now,
    onJwksError: (error) => {
      edges.warn('JWKS fetch failed', error);
    },
  });
  return devSecret === undefined ? { verifier } : { verifier, devSecret };
}

export async function composeGateway(config: Config, edges: ComposeEdges): Promise<Gateway> {
  const dis = await composeDis(config, edges);
  const stores = composeStores(config, edges);
  const auth = composeAuth(config, edges);
  const ingest = createIngest({ sink: createDisSink(dis.client), randomKey: randomUUID });
  const app = createApp({
    streams: recordsStreams(config.streams),
    verifier: auth.verifier,
    rateLimiter: stores.rateLimiter,
    idempotency: stores.idempotency,
    ingest,
    now: edges.now,
    limits: {
      bodyLimitBytes: config.server.bodyLimitBytes,
      maxRecordsPerRequest: config.limits.maxRecordsPerRequest,
      maxRecordBytes: config.limits.maxRecordBytes,
      maxJsonDepth: config.limits.maxJsonDepth,
    },
    wait: { defaultMs: config.server.defaultWaitMs, maxMs: config.server.maxWaitMs },
    trustProxy: config.server.trustProxy,
    onUnexpectedError: (error) => {
      edges.warn('unexpected error while handling a request', error);
    },
  });

  const dev: DevInfo | undefined = config.production
    ? undefined
    : {
        redis: stores.redis === undefined ? 'memory' : 'redis',
        ...(dis.emulatorUrl === undefined ? {} : { emulatorUrl: dis.emulatorUrl }),
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

  const { redis } = stores;
  return {
    app,
    dev,
    ready: async (timeoutMs) => {
      if (redis === undefined) return;
      try {
        await whenReady(redis, timeoutMs);
      } catch (error) {
        edges.warn(`Redis is not reachable after ${timeoutMs} ms; starting anyway`, error);
      }
    },
    close: async () => {
      await auth.verifier.close();
      await dis.close();
      if (redis !== undefined) await closeRedis(redis);
    },
  };
}

import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { request } from 'undici';
import supertest from 'supertest';
import { mintToken } from '../../src/auth/mint-token.ts';
import { composeGateway } from '../../src/compose.ts';
import { createGatewayServer } from '../../src/http/server.ts';
import type { Metrics } from '../../src/observability/metrics.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createLogger, type Logger } from '../../src/observability/logger.ts';
import {
  DEV_CREDENTIALS,
  createEmulator,
  type Emulator,
  type EmulatorOptions,
} from '../../src/emulator/emulator.ts';
import { uniqueStreamName } from './dis-fixtures.ts';
import { startRedis, type RedisServer } from './redis-server.ts';

export const TEST_ISSUER = 'https://auth.test.internal';
export const TEST_AUDIENCE = 'dis-gateway';
/** What the test gateways say in gateway_build_info and DIS's User-Agent. */
export const TEST_BUILD = { version: '0.0.0-test', nodeVersion: process.versions.node } as const;

/** The claims of a valid test-gateway token for stream `clicks`, for tests that sign their own. */
export function testClaims(): {
  iss: string;
  aud: string;
  sub: string;
  scope: string;
  iat: number;
  exp: number;
} {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: TEST_ISSUER,
    aud: TEST_AUDIENCE,
    sub: 'svc',
    scope: 'dis:write:clicks',
    iat: now,
    exp: now + 300,
  };
}

export interface GatewayStream {
  readonly name: string;
  readonly disStream: string;
  readonly partitions: number;
  readonly type?: 'COMMON' | 'ADVANCED';
}

export interface StartGatewayOptions {
  readonly emulator?: EmulatorOptions;
  /** Logical stream specs; default one 2-partition stream. */
  readonly streams?: readonly Omit<GatewayStream, 'disStream'>[];
  /** A real Redis (`redis://…`); memory stores when absent. */
  readonly redisUrl?: string;
  /** More config through the contract env vars, e.g. a GATEWAY_CONFIG file. */
  readonly env?: Readonly<Record<string, string>>;
  readonly readFile?: (path: string) => string;
  /** Where the gateway logs (default: nowhere). */
  readonly logger?: Logger;
  readonly draining?: () => boolean;
}

export interface TestGateway {
  readonly app: Express;
  readonly metrics: Metrics;
  readonly emulator: Emulator;
  readonly streams: readonly GatewayStream[];
  readonly http: ReturnType<typeof supertest>;
  readonly secret: string;
  token(options?: { scopes?: readonly string[]; subject?: string; lifetimeS?: number }): string;
  /** Sends exact bytes over a real socket (supertest would re-encode a Buffer body). */
  postRaw(
    path: string,
    body: Buffer,
    headers: Record<string, string | string[]>,
  ): Promise<{ status: number; text: string; headers: Record<string, unknown> }>;
  /** Raw stored records of a logical stream, in partition then sequence order. */
  stored(stream: string): Buffer[];
  /**
   * The app in the server main.ts runs (createGatewayServer, with the configured timeouts and the
   * parser's answers) on a free loopback port; close() ends its connections too.
   */
  serve(): Promise<{ readonly port: number; close(): Promise<void> }>;
  close(): Promise<void>;
}

/**
 * The real gateway, composed from config the way main.ts does it (loadConfig over the contract env
 * vars), pointed at an emulator on a free port, and optionally a real Redis.
 */
export async function startGateway(options: StartGatewayOptions = {}): Promise<TestGateway> {
  const credentials = DEV_CREDENTIALS[0];
  if (credentials === undefined) throw new Error('no emulator dev credentials');
  const streams: GatewayStream[] = (options.streams ?? [{ name: 'clicks', partitions: 2 }]).map(
    (s) => ({
      ...s,
      disStream: uniqueStreamName(`gw-${s.name}`),
    }),
  );
  const emulator = await createEmulator({
    ...options.emulator,
    streams: streams.map((s) => ({
      name: s.disStream,
      partitions: s.partitions,
      type: s.type ?? 'COMMON',
    })),
  });
  const secret = randomBytes(32).toString('base64url');
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    PORT: '0',
    DIS_ENDPOINT: emulator.url,
    DIS_REGION: emulator.region,
    DIS_PROJECT_ID: emulator.projectId,
    DIS_AK: credentials.ak,
    DIS_SK: credentials.sk,
    JWT_SECRET: secret,
    JWT_ISSUER: TEST_ISSUER,
    JWT_AUDIENCE: TEST_AUDIENCE,
    JWT_ALGORITHMS: 'HS256',
    GATEWAY_STREAMS: streams
      .map(
        (s) =>
          `${s.name}=${s.disStream}:${s.partitions}${s.type === undefined ? '' : `:${s.type}`}`,
      )
      .join(','),
    ...(options.redisUrl === undefined ? {} : { REDIS_URL: options.redisUrl }),
    ...options.env,
  };
  const loaded = loadConfig(
    env,
    options.readFile ??
      ((path) => {
        throw new Error(`no file ${path} in this test`);
      }),
  );
  if (!loaded.ok) throw new Error(`test config invalid:\n${loaded.problems.join('\n')}`);
  // Redis outages are part of some tests; their warnings are expected noise.
  const logger = options.logger ?? createLogger({ level: 'silent' });
  const gateway = await composeGateway(loaded.config, {
    now: Date.now,
    instanceId: `test-${process.pid}`,
    logger,
    build: TEST_BUILD,
    ...(options.draining === undefined ? {} : { draining: options.draining }),
  });
  await gateway.ready(2000);
  gateway.start();
  const byName = new Map(streams.map((s) => [s.name, s]));
  return {
    app: gateway.app,
    metrics: gateway.metrics,
    emulator,
    streams,
    http: supertest(gateway.app),
    secret,
    token: ({ scopes = ['dis:write:*'], subject = 'svc-test', lifetimeS = 600 } = {}) =>
      mintToken({
        secret,
        issuer: TEST_ISSUER,
        audience: TEST_AUDIENCE,
        subject,
        scopes,
        lifetimeS,
        now: Date.now(),
      }),
    postRaw: async (path, body, headers) => {
      const server = createServer(gateway.app);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address() as AddressInfo;
        const res = await request(`http://127.0.0.1:${port}${path}`, {
          method: 'POST',
          headers,
          body,
        });
        return { status: res.statusCode, text: await res.body.text(), headers: res.headers };
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    },
    serve: async () => {
      const server = createGatewayServer(gateway.app, loaded.config.server, {
        logger,
        countClientError: (code) => {
          gateway.metrics.httpClientErrors.inc({ code });
        },
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return {
        port: (server.address() as AddressInfo).port,
        close: async () => {
          server.closeAllConnections();
          await new Promise((resolve) => server.close(resolve));
        },
      };
    },
    stored: (stream) => {
      const s = byName.get(stream);
      if (s === undefined) throw new Error(`unknown test stream ${stream}`);
      return emulator.state.records(s.disStream).flatMap((p) => p.records.map((r) => r.data));
    },
    close: async () => {
      await gateway.close();
      await emulator.close();
    },
  };
}

export interface TestGatewayOnRedis extends TestGateway {
  /** The gateway's own redis-server, stopped by close(). */
  readonly redis: RedisServer;
}

/** startGateway on a redis-server of its own (the spool, idempotency and limits on real Redis). */
export async function startGatewayOnRedis(
  options: Omit<StartGatewayOptions, 'redisUrl'> = {},
): Promise<TestGatewayOnRedis> {
  const redis = await startRedis();
  try {
    const gateway = await startGateway({ ...options, redisUrl: redis.url });
    return {
      ...gateway,
      redis,
      close: async () => {
        await gateway.close();
        await redis.stop();
      },
    };
  } catch (error) {
    await redis.stop();
    throw error;
  }
}

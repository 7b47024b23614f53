import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { DEFAULT_PROJECT_ID, DEV_CREDENTIALS } from '../../src/emulator/emulator.ts';
import { minimalEnv } from '../helpers/process-gateway.ts';
import { startRedis, type RedisServer } from '../helpers/redis-server.ts';
import {
  DIS_STREAM,
  GATEWAY_VARIANTS,
  LOGICAL_STREAM,
  PARTITIONS,
  WEBHOOK_DIS_STREAM,
  WEBHOOK_SOURCE,
  experimentNodeArgs,
  gatewayEnv,
  prepareVariant,
  type GatewayVariant,
} from './gateway-setup.ts';
import type { ProcessSet, Service } from './processes.ts';

// Starts what one benchmark run needs, each in its own process: Redis, the DIS emulator, the
// baseline and every gateway variant whose config the gateway accepts.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'src/main.ts');
const UPSTREAMS = {
  minimal: fileURLToPath(new URL('./minimal-upstream.ts', import.meta.url)),
  emulator: fileURLToPath(new URL('./upstream.ts', import.meta.url)),
} as const;
const BASELINE = fileURLToPath(new URL('./baseline.ts', import.meta.url));
const LISTENING = /listening on (http:\/\/[^\s"]+)/;
const START_TIMEOUT_MS = 20_000;

export interface GatewayTarget {
  readonly variant: GatewayVariant;
  readonly service: Service;
  /** The effective `ingest` config section, when the gateway has one. */
  readonly ingest: unknown;
}

export interface SkippedVariant {
  readonly variant: GatewayVariant;
  readonly reason: string;
}

export interface Rig {
  readonly redis: RedisServer;
  /** redis-server's own pid (from INFO), for its CPU; undefined if it could not be read. */
  readonly redisPid: number | undefined;
  readonly upstream: Service;
  readonly baseline: Service;
  readonly gateways: readonly GatewayTarget[];
  readonly skipped: readonly SkippedVariant[];
  readonly jwtSecret: string;
  readonly webhookSecret: string;
  /** Starts one more gateway (the profiled one) with the default variant's settings. */
  startGateway(
    variant: GatewayVariant,
    label: string,
    nodeFlags: readonly string[],
  ): Promise<GatewayTarget | SkippedVariant>;
}

async function redisServerPid(url: string): Promise<number | undefined> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    const info = await client.info('server');
    const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

export async function startRig(
  processes: ProcessSet,
  resultsDir: string,
  upstreamKind: keyof typeof UPSTREAMS,
): Promise<Rig> {
  const credentials = DEV_CREDENTIALS[0];
  if (credentials === undefined) throw new Error('the emulator has no dev credentials');
  const projectId = DEFAULT_PROJECT_ID;
  const redis = await startRedis();
  const redisPid = await redisServerPid(redis.url);
  const upstream = await processes.spawnService({
    name: 'upstream',
    nodeArgs: [
      UPSTREAMS[upstreamKind],
      JSON.stringify({
        projectId,
        credentials: [credentials],
        streams: [DIS_STREAM, WEBHOOK_DIS_STREAM].map((name) => ({
          name,
          partitions: PARTITIONS,
          type: 'ADVANCED',
        })),
      }),
    ],
    env: minimalEnv(),
    logFile: join(resultsDir, 'upstream.log'),
    ready: LISTENING,
    timeoutMs: START_TIMEOUT_MS,
  });
  const baseline = await processes.spawnService({
    name: 'baseline',
    nodeArgs: [
      BASELINE,
      JSON.stringify({
        endpoint: upstream.url,
        projectId,
        ak: credentials.ak,
        sk: credentials.sk,
        streams: { [LOGICAL_STREAM]: DIS_STREAM },
        webhooks: { [WEBHOOK_SOURCE]: WEBHOOK_DIS_STREAM },
        // The gateway's DIS pool size (transport.ts), so both have the same upstream concurrency.
        connections: 32,
      }),
    ],
    env: minimalEnv(),
    logFile: join(resultsDir, 'baseline.log'),
    ready: LISTENING,
    timeoutMs: START_TIMEOUT_MS,
  });

  const jwtSecret = randomBytes(32).toString('base64url');
  const webhookSecret = `whsec_${randomBytes(24).toString('base64')}`;
  const startGateway = async (
    variant: GatewayVariant,
    label: string,
    nodeFlags: readonly string[],
  ): Promise<GatewayTarget | SkippedVariant> => {
    const env = gatewayEnv({
      configPath: join(resultsDir, `${label}.config.json`),
      disEndpoint: upstream.url,
      projectId,
      ak: credentials.ak,
      sk: credentials.sk,
      redisUrl: redis.url,
      jwtSecret,
      webhookSecret,
    });
    const check = prepareVariant(variant, env.GATEWAY_CONFIG ?? '', env);
    if (!check.ok) {
      return { variant, reason: `config refused: ${check.problems.join('; ')}` };
    }
    const service = await processes.spawnService({
      name: label,
      nodeArgs: [...experimentNodeArgs(), ...nodeFlags, MAIN],
      env: minimalEnv(env),
      logFile: join(resultsDir, `${label}.log`),
      ready: LISTENING,
      timeoutMs: START_TIMEOUT_MS,
    });
    return { variant, service, ingest: check.ingest };
  };

  const gateways: GatewayTarget[] = [];
  const skipped: SkippedVariant[] = [];
  for (const variant of GATEWAY_VARIANTS) {
    const started = await startGateway(variant, variant.label, []);
    if ('service' in started) gateways.push(started);
    else skipped.push(started);
  }
  if (!gateways.some((g) => g.variant.label === 'gateway')) {
    throw new Error(`the gateway did not start: ${skipped.map((s) => s.reason).join('; ')}`);
  }
  return {
    redis,
    redisPid,
    upstream,
    baseline,
    gateways,
    skipped,
    jwtSecret,
    webhookSecret,
    startGateway,
  };
}

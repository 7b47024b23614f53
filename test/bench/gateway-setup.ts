import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { loadConfig } from '../../src/config/load-config.ts';
import type { WorkloadName } from './workloads.ts';

// How the benchmark runs the gateway: production mode, real JWT verification (HS256), real Redis
// limits with quotas at the schema's maxima so nothing is rejected, info logs to a file, metrics on
// (always), one ADVANCED 16-partition stream for records and one for webhooks (sync mode).
// Gateway variants differ only by a config overlay: a second gateway with batching off is one
// entry of GATEWAY_VARIANTS.

const MIB = 1024 * 1024;
export const LOGICAL_STREAM = 'bench';
export const DIS_STREAM = 'bench-events';
export const WEBHOOK_SOURCE = 'bench-sw';
export const WEBHOOK_DIS_STREAM = 'bench-hooks';
export const JWT_ISSUER = 'https://auth.bench.internal';
export const JWT_AUDIENCE = 'dis-gateway';
export const PARTITIONS = 16;

export type Mode = 'closed' | 'open';

export interface GatewayVariant {
  readonly label: string;
  readonly title: string;
  /** Deep-merged over the base config file. */
  readonly overlay: Record<string, unknown>;
  /** Which cells this variant runs in (the baseline and the default gateway run in all). */
  readonly runsIn: (workload: WorkloadName, mode: Mode) => boolean;
}

export const GATEWAY_VARIANTS: readonly GatewayVariant[] = [
  {
    label: 'gateway',
    title: 'gateway, config defaults (batching as shipped)',
    overlay: {},
    runsIn: () => true,
  },
  {
    label: 'gateway-batching-off',
    title: 'gateway, ingest.batching.enabled = false',
    overlay: { ingest: { batching: { enabled: false } } },
    runsIn: (workload) => workload === 'single',
  },
  {
    // Not a target: what target 4a's call count costs in latency when requests arrive evenly
    // spaced (a batch of 20 at 2,000 req/s spans 10 ms of arrivals, so its requests wait ~5 ms).
    label: 'gateway-linger-10ms',
    title: 'gateway, ingest.batching.linger_ms = 10 (the trade of target 4a)',
    overlay: { ingest: { batching: { linger_ms: 10 } } },
    runsIn: (workload, mode) => workload === 'single' && mode === 'open',
  },
];

const unlimitedStream = (disStream: string): Record<string, unknown> => ({
  dis_stream: disStream,
  partitions: PARTITIONS,
  type: 'ADVANCED',
  limits: {
    records_per_s: 10_000_000,
    bytes_per_s: 10_000 * MIB,
    burst_records: 10_000_000,
    burst_bytes: 10_000 * MIB,
  },
});

export function baseConfig(): Record<string, unknown> {
  return {
    // No load balancer to wait for: stop at once when the benchmark ends.
    server: { shutdown_delay_ms: 0, shutdown_timeout_ms: 5000 },
    streams: {
      [LOGICAL_STREAM]: unlimitedStream(DIS_STREAM),
      [`${LOGICAL_STREAM}-hooks`]: unlimitedStream(WEBHOOK_DIS_STREAM),
    },
    limits: {
      default: {
        requests_per_s: 1_000_000,
        burst: 10_000_000,
        records_per_s: 10_000_000,
        bytes_per_s: 10_000 * MIB,
      },
    },
    webhooks: {
      sources: {
        [WEBHOOK_SOURCE]: {
          profile: 'standard-webhooks',
          secrets_env: ['BENCH_WEBHOOK_SECRET'],
          stream: `${LOGICAL_STREAM}-hooks`,
          mode: 'sync',
        },
      },
    },
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function deepMerge(
  base: Record<string, unknown>,
  overlay: Record<string, unknown>,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overlay)) {
    const current = merged[key];
    merged[key] = isObject(current) && isObject(value) ? deepMerge(current, value) : value;
  }
  return merged;
}

export interface GatewayEnvInput {
  readonly configPath: string;
  readonly disEndpoint: string;
  readonly projectId: string;
  readonly ak: string;
  readonly sk: string;
  readonly redisUrl: string;
  readonly jwtSecret: string;
  readonly webhookSecret: string;
}

/**
 * The Deployment's NODE_OPTIONS (deploy/base/deployment.yaml): the gateway is measured as it runs
 * in production. BENCH_GATEWAY_NODE_OPTIONS replaces it for an experiment.
 */
export function deploymentNodeOptions(): string {
  const override = process.env.BENCH_GATEWAY_NODE_OPTIONS;
  if (override !== undefined) return override;
  const text = readFileSync(new URL('../../deploy/base/deployment.yaml', import.meta.url), 'utf8');
  const match = /- name: NODE_OPTIONS\n\s+value: (.+)\n/.exec(text);
  if (match?.[1] === undefined) throw new Error('deploy/base/deployment.yaml sets no NODE_OPTIONS');
  return match[1].trim().replace(/^['"]|['"]$/g, '');
}

/**
 * BENCH_GATEWAY_NODE_ARGS: extra flags on the gateway's `node` command line, for V8 flags that
 * NODE_OPTIONS refuses (`--trace-gc`, `--heap-growing-percent`, …). Empty by default.
 */
export function experimentNodeArgs(): string[] {
  return (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(/\s+/).filter((arg) => arg !== '');
}

export function gatewayEnv(input: GatewayEnvInput): Record<string, string> {
  return {
    NODE_OPTIONS: deploymentNodeOptions(),
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    GATEWAY_CONFIG: input.configPath,
    LOG_LEVEL: 'info',
    DIS_ENDPOINT: input.disEndpoint,
    DIS_REGION: 'cn-north-4',
    DIS_PROJECT_ID: input.projectId,
    DIS_AK: input.ak,
    DIS_SK: input.sk,
    REDIS_URL: input.redisUrl,
    JWT_SECRET: input.jwtSecret,
    JWT_ISSUER,
    JWT_AUDIENCE,
    JWT_ALGORITHMS: 'HS256',
    BENCH_WEBHOOK_SECRET: input.webhookSecret,
  };
}

export type VariantCheck =
  | { readonly ok: true; readonly ingest: unknown }
  | { readonly ok: false; readonly problems: readonly string[] };

const WithIngest = z.object({ ingest: z.unknown() });

/**
 * Writes the variant's config file and checks it with the gateway's own loadConfig: a key the
 * gateway does not know yet (say `ingest.batching` before it exists) makes the variant
 * "not measured" instead of failing the run. `ingest` is the effective ingest section, if any.
 */
export function prepareVariant(
  variant: GatewayVariant,
  configPath: string,
  env: Readonly<Record<string, string>>,
): VariantCheck {
  writeFileSync(configPath, JSON.stringify(deepMerge(baseConfig(), variant.overlay), null, 2));
  const loaded = loadConfig(env, (path) => readFileSync(path, 'utf8'));
  if (!loaded.ok) return { ok: false, problems: loaded.problems };
  const effective = WithIngest.safeParse(loaded.config);
  return { ok: true, ingest: effective.success ? effective.data.ingest : undefined };
}

import type { z } from 'zod';
import type { BuildContext } from './build-context.ts';
import { buildDis } from './build-dis.ts';
import { buildJwt } from './build-jwt.ts';
import { buildRedis } from './build-redis.ts';
import { buildServer } from './build-server.ts';
import { buildSpool } from './build-spool.ts';
import { buildLimits, buildStreams, buildWebhooks } from './build-tables.ts';
import { extractLiteralSecrets, parseConfigText } from './config-file.ts';
import { applyEnvOverrides, describePath, envValue, type Env } from './env-overrides.ts';
import { FILE_SECTIONS, fileSchema, type FileSection } from './file-schema.ts';
import type { Findings } from './problems.ts';
import { createSecretReader, type ReadFile } from './secrets.ts';
import type { Config } from './types.ts';

export type LoadConfigResult =
  | { readonly ok: true; readonly config: Config; readonly warnings: string[] }
  | { readonly ok: false; readonly problems: string[] };

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_key')
    return `invalid name: ${issue.issues.map((inner) => inner.message).join('; ')}`;
  if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message))
    return 'is required';
  return issue.message;
}

function parseSection<T>(
  section: FileSection,
  schema: z.ZodType<T>,
  input: unknown,
  origins: ReadonlyMap<string, string>,
  problems: string[],
): T | undefined {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    const path = [section, ...issue.path];
    // Unknown keys are reported on the key itself so the path points at the typo.
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        problems.push(`${describePath([...path, key], origins)}: unknown key`);
    } else {
      problems.push(`${describePath(path, origins)}: ${issueMessage(issue)}`);
    }
  }
  return undefined;
}

function readConfigFile(
  path: string,
  readFile: ReadFile,
  problems: string[],
): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    const code =
      error instanceof Error && 'code' in error && typeof error.code === 'string'
        ? error.code
        : 'unreadable';
    problems.push(`GATEWAY_CONFIG: cannot read ${path} (${code})`);
    return undefined;
  }
  const parsed = parseConfigText(path, text);
  if (!parsed.ok) {
    problems.push(...parsed.problems);
    return undefined;
  }
  const extracted = extractLiteralSecrets(parsed.document);
  problems.push(...extracted.problems);
  return extracted.document;
}

/**
 * The effective configuration from the environment and the file named by GATEWAY_CONFIG. Pure: the
 * environment and file access are injected. Lists every problem it can find in one pass; a config
 * is returned only when there is none.
 */
export function loadConfig(env: Env, readFile: ReadFile): LoadConfigResult {
  const findings: Findings = { problems: [], warnings: [] };
  const { problems, warnings } = findings;
  const production = envValue(env, 'NODE_ENV') === 'production';

  const path = envValue(env, 'GATEWAY_CONFIG');
  const fileDocument = path === undefined ? {} : readConfigFile(path, readFile, problems);
  const { document, origins } = applyEnvOverrides(fileDocument ?? {}, env, findings);

  for (const key of Object.keys(document)) {
    if (!FILE_SECTIONS.some((section) => section === key))
      problems.push(`${key}: unknown section (expected ${FILE_SECTIONS.join(', ')})`);
  }
  const shape = fileSchema.shape;
  const parse = <T>(section: FileSection, schema: z.ZodType<T>): T | undefined =>
    parseSection(section, schema, document[section], origins, problems);
  const file = {
    server: parse('server', shape.server),
    log: parse('log', shape.log),
    dis: parse('dis', shape.dis),
    redis: parse('redis', shape.redis),
    auth: parse('auth', shape.auth),
    streams: parse('streams', shape.streams),
    limits: parse('limits', shape.limits),
    idempotency: parse('idempotency', shape.idempotency),
    webhooks: parse('webhooks', shape.webhooks),
    spool: parse('spool', shape.spool),
    ingest: parse('ingest', shape.ingest),
  };
  // A file that could not be read says nothing about what is missing from it: stop at its problems.
  if (fileDocument === undefined) return { ok: false, problems };

  const context: BuildContext = {
    production,
    env,
    secrets: createSecretReader(env, readFile, problems),
    problems,
    warnings,
  };
  const server = file.server && buildServer(file.server, context);
  const dis = file.dis && buildDis(file.dis, context);
  const redis = file.redis && buildRedis(file.redis, context);
  const jwt = file.auth && buildJwt(file.auth.jwt, context);
  const streams = file.streams && buildStreams(file.streams, dis?.mode === 'embedded', context);
  const limits = file.limits && buildLimits(file.limits);
  const sources =
    file.webhooks &&
    buildWebhooks(file.webhooks, streams && new Set(Object.keys(streams)), context);
  const spool =
    file.spool &&
    buildSpool(
      file.spool,
      context,
      (file.dis?.connect_timeout_ms ?? 2_000) + 2 * (file.dis?.request_timeout_ms ?? 5_000),
    );

  if (
    problems.length > 0 ||
    server === undefined ||
    file.log === undefined ||
    dis === undefined ||
    redis === undefined ||
    jwt === undefined ||
    streams === undefined ||
    limits === undefined ||
    file.idempotency === undefined ||
    sources === undefined ||
    spool === undefined ||
    file.ingest === undefined
  ) {
    return { ok: false, problems: problems.length > 0 ? problems : ['configuration incomplete'] };
  }
  return {
    ok: true,
    warnings,
    config: {
      production,
      server,
      log: { level: file.log.level },
      dis,
      redis,
      auth: { jwt },
      streams,
      limits,
      idempotency: { ttlS: file.idempotency.ttl_s },
      webhooks: { sources },
      spool,
      ingest: {
        batching: {
          enabled: file.ingest.batching.enabled,
          lingerMs: file.ingest.batching.linger_ms,
          maxInFlight: file.ingest.batching.max_in_flight,
          maxQueuedRecords: file.ingest.batching.max_queued_records,
        },
      },
    },
  };
}

import { z } from 'zod';
import { isRecord, type Env } from './env-overrides.ts';
import { resolveJwt } from './jwt.ts';
import {
  DEV_STREAM,
  checkServer,
  checkSpool,
  resolveDis,
  resolveFrontdoor,
  resolveRedis,
  resolveStreamTargets,
  resolveStreams,
  resolveWebhooks,
} from './resolve.ts';
import { PLACEHOLDER_HINT } from './placeholders.ts';
import { createSecretReader, type ReadFile, type Scope } from './secrets.ts';
import {
  disSettings,
  disTimeouts,
  frontdoorSettings,
  idempotencySection,
  ingestSection,
  jwtSettings,
  limitsSection,
  logSection,
  redisSettings,
  serverSection,
  serverWaits,
  spoolSettings,
  streamEntry,
  streamName,
  webhooksSettings,
  type SectionLinks,
} from './settings.ts';

// The schema of the whole configuration: each section's settings (settings.ts) bound to the
// transforms that check them against each other, resolve their secrets through the injected reader
// and build the runtime shape (resolve.ts, jwt.ts). Keys are camelCase here and snake_case in the
// file and in every message: loadConfig converts one to the other by rule, never the names chosen by
// the operator (streams, limits.principals, webhooks.sources).

/** What the schema's transforms need from outside the section they transform. */
export interface SchemaDeps {
  readonly production: boolean;
  readonly env: Env;
  readonly readFile: ReadFile;
  readonly warning: (message: string) => void;
  readonly links: SectionLinks;
}

/** Marks an issue whose message is a whole sentence, not one to put after its path. */
export const SENTENCE = { sentence: true } as const;

function reportTo(ctx: z.core.$RefinementCtx): (message: string) => void {
  return (message) => {
    ctx.issues.push({ code: 'custom', message, input: ctx.value, params: SENTENCE });
  };
}

export const CONFIG_SECTIONS = [
  'server',
  'log',
  'dis',
  'redis',
  'auth',
  'streams',
  'limits',
  'idempotency',
  'webhooks',
  'spool',
  'ingest',
  'frontdoor',
] as const;

/** The facts of SectionLinks, from the input (keys already converted) before it is parsed. */
export function linkSections(
  input: Readonly<Record<string, unknown>>,
  production: boolean,
): SectionLinks {
  const dis = isRecord(input.dis) ? input.dis : {};
  const embedded = !production && dis.endpoint === undefined;
  const streams = input.streams ?? {};
  const names = isRecord(streams) ? Object.keys(streams) : undefined;
  const { connectTimeoutMs, requestTimeoutMs } = readOnItsOwn(disTimeouts, dis);
  return {
    embedded,
    streamNames:
      names === undefined
        ? undefined
        : new Set(names.length === 0 && embedded ? [DEV_STREAM] : names),
    disRequestBoundMs: connectTimeoutMs + 2 * requestTimeoutMs,
    waits: readOnItsOwn(serverWaits, input.server),
  };
}

/** Settings of a section, or their defaults when they are wrong (their section reports that). */
function readOnItsOwn<S extends z.core.$ZodLooseShape>(shape: S, section: unknown) {
  const schema = z.object(shape);
  const parsed = schema.safeParse(isRecord(section) ? section : {});
  return parsed.success ? parsed.data : schema.parse({});
}

/**
 * The schema of the whole configuration, bound to its deps: the transforms read secrets and report
 * warnings through them. Built per load (it is cheap); `Config` is its output type.
 */
export function configSchema(deps: SchemaDeps) {
  const { production, env, readFile, warning, links } = deps;
  const scopeOf = (ctx: z.core.$RefinementCtx): Scope => {
    const problem = reportTo(ctx);
    return {
      production,
      env,
      secrets: createSecretReader(env, readFile, problem, (where) => {
        // The value came from a secret: the message names where, never what.
        (production ? problem : warning)(`${where}: ${PLACEHOLDER_HINT}`);
      }),
      problem,
      warning,
    };
  };
  // Resolvers report why before they give up; this only keeps a silent one from passing.
  const required = <T>(value: T | undefined, ctx: z.core.$RefinementCtx): T => {
    if (value !== undefined) return value;
    if (ctx.issues.length === 0) reportTo(ctx)('configuration incomplete');
    return z.NEVER;
  };
  const sections = {
    // Transforms, not refinements: they run only on a section whose values all passed.
    server: serverSection
      .transform((server, ctx) => checkServer(server, scopeOf(ctx)))
      .prefault({}),
    log: logSection.prefault({}),
    dis: disSettings
      .transform((dis, ctx) => required(resolveDis(dis, scopeOf(ctx)), ctx))
      .prefault({}),
    redis: redisSettings
      .transform((redis, ctx) => required(resolveRedis(redis, scopeOf(ctx)), ctx))
      .prefault({}),
    auth: z
      .strictObject({
        jwt: jwtSettings.transform((jwt, ctx) => resolveJwt(jwt, scopeOf(ctx))).prefault({}),
      })
      .prefault({}),
    streams: z
      .record(streamName, streamEntry)
      .transform((streams, ctx) => resolveStreams(streams, scopeOf(ctx), links.embedded))
      .prefault({}),
    limits: limitsSection.prefault({}),
    idempotency: idempotencySection.prefault({}),
    webhooks: webhooksSettings
      .transform((webhooks, ctx) => resolveWebhooks(webhooks, scopeOf(ctx), links))
      .prefault({}),
    spool: spoolSettings
      .transform((spool, ctx) => checkSpool(spool, scopeOf(ctx), links.disRequestBoundMs))
      .prefault({}),
    ingest: ingestSection.prefault({}),
    frontdoor: frontdoorSettings
      .transform((frontdoor, ctx) => resolveFrontdoor(frontdoor, scopeOf(ctx), links))
      .prefault({}),
  } satisfies Record<(typeof CONFIG_SECTIONS)[number], z.ZodType>;

  // Streams' own DIS targets inherit from the resolved top-level `dis`: a transform of the whole.
  return z.strictObject(sections).transform((config, ctx) => {
    const targets = resolveStreamTargets(config.dis, config.streams, config.spool, scopeOf(ctx));
    return { production, ...config, ...targets };
  });
}

import { replayTtlS } from '../webhooks/replay-ttl.ts';
import {
  disSettings,
  type DisAuthSettings,
  type DisSettings,
  type FrontdoorSettings,
  type RedisSettings,
  type SectionLinks,
  type ServerSettings,
  type SpoolSettings,
  type StreamDisSettings,
  type StreamSettings,
  type WebhookSourceSettings,
  type WebhooksSettings,
} from './settings.ts';
import {
  checkOneOf,
  missingSetting,
  resolveSecretList,
  type SecretResult,
  type Scope,
} from './secrets.ts';

// What sections become beyond their own values: the checks that relate settings to each other, the
// defaults of the mode (embedded DIS, the in-memory store, the dev stream) and the secrets they name.
// Each function is a section's transform in schema.ts; what it finds goes to `scope.problem`.

/** Without streams in embedded dev mode, one default stream so the quick start has a target. */
export const DEV_STREAM = 'events';
/** The replay TTL covers at least this tolerance (the default tolerance_s), with or without sources. */
const REPLAY_MIN_TOLERANCE_S = 300;
/** Senders give a webhook seconds (GitHub 10 s) before they call it failed. */
const SYNC_WAIT_CAP_MS = 5_000;

export function checkServer(server: ServerSettings, scope: Scope): ServerSettings {
  // Node refuses a headers timeout above the request timeout (and its checker would swap them).
  // Both count from the request's first byte and end when it has arrived, not when it is answered:
  // neither bounds the wait for DIS, and an idle keep-alive connection is under neither.
  if (
    server.requestTimeoutMs > 0 &&
    server.headersTimeoutMs > 0 &&
    server.headersTimeoutMs > server.requestTimeoutMs
  )
    scope.problem(
      'server.headers_timeout_ms: must not exceed server.request_timeout_ms (Node refuses a headers timeout longer than the whole request’s)',
    );
  if (server.defaultWaitMs > server.maxWaitMs)
    scope.problem('server.default_wait_ms: must not exceed server.max_wait_ms');
  if (server.shutdownDelayMs >= server.shutdownTimeoutMs)
    scope.problem(
      'SHUTDOWN_DELAY_MS / server.shutdown_delay_ms: must be below SHUTDOWN_TIMEOUT_MS / server.shutdown_timeout_ms',
    );
  return server;
}

export function checkSpool(
  spool: SpoolSettings,
  scope: Scope,
  /** An attempt in flight at a batch's deadline may run this much longer (one request's bound). */
  disRequestBoundMs: number,
): SpoolSettings {
  if (spool.retryInitialMs > spool.retryMaxMs)
    scope.problem('spool.retry_initial_ms: must not exceed spool.retry_max_ms');
  // A batch still in flight at one instance must not be taken over by another: that would send it
  // twice in the normal case, not only after a crash.
  if (spool.claimIdleMs <= spool.putTimeoutMs + disRequestBoundMs)
    scope.problem(
      'spool.claim_idle_ms: must be above spool.put_timeout_ms + dis.connect_timeout_ms + 2 × dis.request_timeout_ms (a batch in flight at its deadline still waits for its DIS request)',
    );
  return spool;
}

/**
 * The secrets of a DIS `auth`: the file keys `<name>_env` / `_file`, and for the top-level
 * `dis.auth` the conventional variable too. A stream's own `auth` never reads DIS_AK and the like:
 * they would stand in for every stream's credentials at once.
 */
function disSecrets(auth: DisAuthSettings, conventional: boolean) {
  const envVar = (name: string) => (conventional ? name : undefined);
  return {
    ak: { envVar: envVar('DIS_AK'), env: auth.akEnv, file: auth.akFile },
    sk: { envVar: envVar('DIS_SK'), env: auth.skEnv, file: auth.skFile },
    security_token: {
      envVar: envVar('DIS_SECURITY_TOKEN'),
      env: auth.securityTokenEnv,
      file: auth.securityTokenFile,
    },
    password: { envVar: envVar('IAM_PASSWORD'), env: auth.passwordEnv, file: auth.passwordFile },
  };
}

export type DisCredentials =
  | {
      readonly type: 'aksk';
      readonly ak: string;
      readonly sk: string;
      readonly securityToken?: string;
    }
  | {
      readonly type: 'token';
      readonly iamEndpoint: string;
      readonly user: string;
      readonly password: string;
      readonly domain: string;
    };

/**
 * AK/SK (with an optional security token), or IAM token credentials; undefined after a problem.
 * `at`: where the settings are (`dis.auth`, `streams.<name>.dis.auth`); `conventional`: whether
 * DIS_AK, DIS_SK, DIS_SECURITY_TOKEN and IAM_PASSWORD may supply them (the top level only).
 */
function resolveDisAuth(
  auth: DisAuthSettings,
  scope: Scope,
  at = 'dis.auth',
  conventional = true,
): DisCredentials | undefined {
  const refs = disSecrets(auth, conventional);
  for (const [name, ref] of Object.entries(refs))
    checkOneOf(scope, at, { [`${name}_env`]: ref.env, [`${name}_file`]: ref.file });
  const read = (name: keyof typeof refs): SecretResult => {
    const { envVar, env, file } = refs[name];
    return scope.secrets.resolve({
      ...(envVar === undefined ? {} : { envVar }),
      envRef: { key: `${at}.${name}_env`, name: env },
      fileRef: { key: `${at}.${name}_file`, path: file },
    });
  };
  const required = (name: keyof typeof refs, what: string): string | undefined => {
    const result = read(name);
    if (result.kind === 'value') return result.value;
    if (result.kind === 'absent') {
      const { envVar } = refs[name];
      const keys = [`${at}.${name}_env`, `${at}.${name}_file`];
      scope.problem(
        envVar === undefined
          ? `missing ${what}: set ${keys.join(' or ')} in the config file`
          : missingSetting(what, [envVar, `${envVar}_FILE`], keys),
      );
    }
    return undefined;
  };

  if (auth.type === 'aksk') {
    const ak = required('ak', 'DIS access key (AK)');
    const sk = required('sk', 'DIS secret key (SK)');
    const token = read('security_token');
    if (ak === undefined || sk === undefined || token.kind === 'failed') return undefined;
    return token.kind === 'value'
      ? { type: 'aksk', ak, sk, securityToken: token.value }
      : { type: 'aksk', ak, sk };
  }
  const mode = conventional ? 'DIS_AUTH=token' : `${at}.type token`;
  const given = (value: string | undefined, what: string, envVar: string, key: string) => {
    if (value === undefined)
      scope.problem(
        conventional
          ? missingSetting(`${what} (${mode})`, [envVar], [`${at}.${key}`])
          : `missing ${what} (${mode}): set ${at}.${key} in the config file`,
      );
    return value;
  };
  const iamEndpoint = given(auth.iamEndpoint, 'IAM endpoint', 'IAM_ENDPOINT', 'iam_endpoint');
  const user = given(auth.user, 'IAM user', 'IAM_USER', 'user');
  const domain = given(auth.domain, 'IAM domain', 'IAM_DOMAIN', 'domain');
  const password = required('password', `IAM password (${mode})`);
  if (
    iamEndpoint === undefined ||
    user === undefined ||
    domain === undefined ||
    password === undefined
  )
    return undefined;
  return { type: 'token', iamEndpoint, user, password, domain };
}

/** An optional secret named by `<at>.<name>_env` or `<at>.<name>_file` (Redis passwords). */
function optionalSecret(
  scope: Scope,
  at: string,
  name: string,
  env: string | undefined,
  file: string | undefined,
): string | undefined {
  checkOneOf(scope, at, { [`${name}_env`]: env, [`${name}_file`]: file });
  const result = scope.secrets.resolve({
    envRef: { key: `${at}.${name}_env`, name: env },
    fileRef: { key: `${at}.${name}_file`, path: file },
  });
  return result.kind === 'value' ? result.value : undefined;
}

/** `https://dis.cn-north-4.myhuaweicloud.com` → `cn-north-4`. */
function regionFromEndpoint(endpoint: string): string | undefined {
  return /^dis\.([a-z0-9]+(?:-[a-z0-9]+)*)\.myhuaweicloud\.com$/.exec(
    new URL(endpoint).hostname,
  )?.[1];
}

/**
 * Plain http stays on the host (a local TLS-terminating sidecar, the benchmark's emulator): nothing
 * signed crosses a network unencrypted.
 */
function isLoopback(endpoint: string): boolean {
  const host = new URL(endpoint).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Remote DIS when an endpoint is set; without one, the embedded emulator outside production and
 * a list of every missing setting in production.
 */
export function resolveDis(dis: DisSettings, scope: Scope) {
  const { endpoint, region: givenRegion, projectId, auth: authSettings, ...settings } = dis;
  if (endpoint === undefined && !scope.production) return { mode: 'embedded' as const };
  if (endpoint === undefined) {
    scope.problem(missingSetting('DIS endpoint', ['DIS_ENDPOINT'], ['dis.endpoint']));
  } else if (scope.production && !endpoint.startsWith('https:') && !isLoopback(endpoint)) {
    if (settings.allowInsecureHttp)
      scope.warning(
        'DIS_ALLOW_INSECURE_HTTP / dis.allow_insecure_http: the DIS endpoint is plain http, so signed requests and records cross the network unencrypted; only for a network you trust (the compose stack)',
      );
    else
      scope.problem(
        'DIS_ENDPOINT / dis.endpoint: must be an https URL in production (http only to a loopback address, or with DIS_ALLOW_INSECURE_HTTP=true / dis.allow_insecure_http)',
      );
  }
  const region = givenRegion ?? (endpoint === undefined ? undefined : regionFromEndpoint(endpoint));
  if (region === undefined && endpoint !== undefined) {
    scope.problem(
      `${missingSetting('DIS region', ['DIS_REGION'], ['dis.region'])} (the endpoint host is not dis.<region>.myhuaweicloud.com)`,
    );
  }
  if (projectId === undefined)
    scope.problem(missingSetting('DIS project id', ['DIS_PROJECT_ID'], ['dis.project_id']));
  const auth = resolveDisAuth(authSettings, scope);
  if (
    endpoint === undefined ||
    region === undefined ||
    projectId === undefined ||
    auth === undefined
  )
    return undefined;
  return {
    mode: 'remote' as const,
    endpoint: endpoint.replace(/\/+$/, ''),
    region,
    projectId,
    auth,
    ...settings,
  };
}

export type ResolvedDis = NonNullable<ReturnType<typeof resolveDis>>;
export type RemoteDis = Extract<ResolvedDis, { readonly mode: 'remote' }>;

/** The name of the top-level `dis` target: in metrics (`dis_target`), readiness and logs. */
export const DEFAULT_DIS_TARGET = 'dis';

/** The client settings of a DIS target, besides where it goes and who it is. */
type DisTuning = Omit<RemoteDis, 'mode' | 'endpoint' | 'region' | 'projectId' | 'auth'>;

function tuningOf(dis: ResolvedDis): DisTuning {
  const from = dis.mode === 'embedded' ? disSettings.parse({}) : dis;
  return {
    allowInsecureHttp: from.allowInsecureHttp,
    maxRecordsPerRequest: from.maxRecordsPerRequest,
    maxBytesPerRequest: from.maxBytesPerRequest,
    maxConcurrentRequests: from.maxConcurrentRequests,
    maxIsolationRequests: from.maxIsolationRequests,
    requestTimeoutMs: from.requestTimeoutMs,
    connectTimeoutMs: from.connectTimeoutMs,
    breaker: from.breaker,
  };
}

/** What makes two targets one: the same DIS, project and credentials (kept in memory only). */
function identityOf(target: RemoteDis): string {
  return JSON.stringify([target.endpoint, target.projectId, target.auth]);
}

/** `streams.<name>.dis` over the top-level `dis`: what it does not give, it inherits. */
function resolveStreamDis(
  name: string,
  own: StreamDisSettings,
  top: ResolvedDis,
  scope: Scope,
): RemoteDis | undefined {
  const at = `streams.${name}.dis`;
  const base = top.mode === 'remote' ? top : undefined;
  const { endpoint: ownEndpoint, region: ownRegion, projectId: ownProject, auth: ownAuth } = own;
  const tuning = tuningOf(top);
  const settings: DisTuning = {
    allowInsecureHttp: own.allowInsecureHttp ?? tuning.allowInsecureHttp,
    maxRecordsPerRequest: own.maxRecordsPerRequest ?? tuning.maxRecordsPerRequest,
    maxBytesPerRequest: own.maxBytesPerRequest ?? tuning.maxBytesPerRequest,
    maxConcurrentRequests: own.maxConcurrentRequests ?? tuning.maxConcurrentRequests,
    maxIsolationRequests: own.maxIsolationRequests ?? tuning.maxIsolationRequests,
    requestTimeoutMs: own.requestTimeoutMs ?? tuning.requestTimeoutMs,
    connectTimeoutMs: own.connectTimeoutMs ?? tuning.connectTimeoutMs,
    breaker: own.breaker ?? tuning.breaker,
  };
  const endpoint = ownEndpoint ?? base?.endpoint;
  if (endpoint === undefined) {
    // Dev mode without dis.endpoint: the embedded emulator is no target a stream can name.
    scope.problem(
      `${at}.endpoint: required, since dis.endpoint is not set (streams without a dis of their own then write to the embedded emulator; drop ${at} to do the same)`,
    );
  } else if (
    ownEndpoint !== undefined &&
    scope.production &&
    !ownEndpoint.startsWith('https:') &&
    !isLoopback(ownEndpoint)
  ) {
    if (settings.allowInsecureHttp)
      scope.warning(
        `${at}.allow_insecure_http: the DIS endpoint is plain http, so signed requests and records cross the network unencrypted; only for a network you trust`,
      );
    else
      scope.problem(
        `${at}.endpoint: must be an https URL in production (http only to a loopback address, or with ${at}.allow_insecure_http)`,
      );
  }
  // A region belongs to its endpoint: another endpoint does not inherit dis.region.
  const region =
    ownRegion ?? (ownEndpoint === undefined ? base?.region : regionFromEndpoint(ownEndpoint));
  if (region === undefined && endpoint !== undefined)
    scope.problem(
      `${at}.region: required (the endpoint host is not dis.<region>.myhuaweicloud.com)`,
    );
  const projectId = ownProject ?? base?.projectId;
  if (projectId === undefined && endpoint !== undefined)
    scope.problem(`${at}.project_id: required (dis.project_id is not set to inherit)`);
  let auth: DisCredentials | undefined;
  if (ownAuth !== undefined) auth = resolveDisAuth(ownAuth, scope, `${at}.auth`, false);
  else if (base !== undefined) auth = base.auth;
  else if (endpoint !== undefined)
    scope.problem(`${at}.auth: required (the embedded emulator has no credentials to inherit)`);
  if (
    endpoint === undefined ||
    region === undefined ||
    projectId === undefined ||
    auth === undefined
  )
    return undefined;
  return {
    mode: 'remote',
    endpoint: endpoint.replace(/\/+$/, ''),
    region,
    projectId,
    auth,
    ...settings,
  };
}

export interface StreamTargets<S> {
  /** Every stream without its `dis`, naming its DIS target instead. */
  readonly streams: Record<string, S & { readonly disTarget: string }>;
  /**
   * The targets streams name besides the top-level `dis`, by name: `streams.<first stream>.dis`.
   * Streams naming the same endpoint, project and credentials share one.
   */
  readonly disTargets: Record<string, RemoteDis>;
}

/**
 * Resolves every stream's DIS target. One DIS stream name is served by one target only: the spool,
 * its dead letters, the batcher's queues and the spool gauges key records by DIS stream name, so
 * two projects' streams of one name would share them (a record could reach the other project).
 */
export function resolveStreamTargets<S extends StreamSettings>(
  top: ResolvedDis,
  streams: Readonly<Record<string, S>>,
  spool: Pick<SpoolSettings, 'claimIdleMs' | 'putTimeoutMs'>,
  scope: Scope,
): StreamTargets<Omit<S, 'dis'>> {
  const targets: Record<string, RemoteDis> = {};
  const byIdentity = new Map<string, { name: string; tuning: string }>();
  if (top.mode === 'remote')
    byIdentity.set(identityOf(top), {
      name: DEFAULT_DIS_TARGET,
      tuning: JSON.stringify(tuningOf(top)),
    });
  const resolved: Record<string, Omit<S, 'dis'> & { disTarget: string }> = {};
  const writers = new Map<string, { stream: string; target: string }>();
  for (const [name, settings] of Object.entries(streams)) {
    const { dis: own, ...stream } = settings;
    let disTarget = DEFAULT_DIS_TARGET;
    if (own !== undefined) {
      const at = `streams.${name}.dis`;
      const target = resolveStreamDis(name, own, top, scope);
      if (target === undefined) continue;
      const tuning = JSON.stringify(tuningOf(target));
      const same = byIdentity.get(identityOf(target));
      if (same === undefined) {
        disTarget = at;
        targets[at] = target;
        byIdentity.set(identityOf(target), { name: at, tuning });
        const boundMs = target.connectTimeoutMs + 2 * target.requestTimeoutMs;
        if (spool.claimIdleMs <= spool.putTimeoutMs + boundMs)
          scope.problem(
            `spool.claim_idle_ms: must be above spool.put_timeout_ms + ${at}.connect_timeout_ms + 2 × ${at}.request_timeout_ms (a batch in flight at its deadline still waits for its DIS request)`,
          );
      } else if (same.tuning !== tuning) {
        scope.problem(
          `${at}: the same DIS endpoint, project and credentials as ${same.name}, with other client settings; one client (and one breaker for its credentials) serves them both, so give them the same settings`,
        );
        continue;
      } else disTarget = same.name;
    }
    const other = writers.get(stream.disStream);
    if (other !== undefined && other.target !== disTarget)
      scope.problem(
        `streams.${name}.dis_stream: "${stream.disStream}" is also the DIS stream of streams.${other.stream} in another DIS target (${other.target}, here ${disTarget}); the spool, the batcher and the metrics know a DIS stream by its name, so one gateway serves a DIS stream name in one target only`,
      );
    else writers.set(stream.disStream, { stream: name, target: disTarget });
    resolved[name] = { ...stream, disTarget };
  }
  return { streams: resolved, disTargets: targets };
}

/** One URL for the standalone client, so nothing downstream has to merge a password back in. */
function withPassword(url: string, password: string | undefined, scope: Scope): string {
  if (password === undefined) return url;
  const parsed = new URL(url);
  if (parsed.password !== '') {
    scope.problem(
      'REDIS_URL / redis.url: already holds a password; drop it or redis.password_env / redis.password_file',
    );
    return url;
  }
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

/**
 * Standalone (url), Sentinel (sentinels + name) or Cluster (nodes), flattened with the client
 * settings so that `switch (redis.mode)` narrows both at once; with none of them, the in-memory
 * store outside production (with a warning: limits then hold per instance only) and a problem in it.
 */
export function resolveRedis(redis: RedisSettings, scope: Scope) {
  const { url, sentinels, name, nodes, db, ...rest } = redis;
  const { passwordEnv, passwordFile, sentinelPasswordEnv, sentinelPasswordFile, ...client } = rest;
  const shapes = Object.entries({ url, sentinels, nodes }).filter(([, v]) => v !== undefined);
  if (shapes.length > 1) {
    scope.problem(`redis: give only one of ${shapes.map(([key]) => `redis.${key}`).join(', ')}`);
    return undefined;
  }
  if (shapes.length === 0) {
    if (scope.production) {
      scope.problem(
        missingSetting('Redis', ['REDIS_URL'], ['redis.url', 'redis.sentinels', 'redis.nodes']),
      );
      return undefined;
    }
    scope.warning(
      'no Redis configured (REDIS_URL or redis.url/sentinels/nodes): using an in-memory store; rate limits, idempotency and the spool are per instance and lost on restart',
    );
    return { mode: 'memory' as const };
  }
  if (name !== undefined && sentinels === undefined)
    scope.problem('redis.name: only for redis.sentinels');
  if (
    sentinels === undefined &&
    (sentinelPasswordEnv !== undefined || sentinelPasswordFile !== undefined)
  )
    scope.problem('redis.sentinel_password_env / _file: only for redis.sentinels');
  const password = optionalSecret(scope, 'redis', 'password', passwordEnv, passwordFile);
  const withPasswordField = { ...(password === undefined ? {} : { password }), ...client };
  if (url !== undefined) {
    if (db !== undefined)
      scope.problem('redis.db: only for sentinel; a standalone URL carries its db as the path');
    return { mode: 'standalone' as const, url: withPassword(url, password, scope), ...client };
  }
  if (sentinels !== undefined) {
    const sentinelPassword = optionalSecret(
      scope,
      'redis',
      'sentinel_password',
      sentinelPasswordEnv,
      sentinelPasswordFile,
    );
    if (name === undefined) {
      scope.problem('redis.name: required with redis.sentinels (the monitored master name)');
      return undefined;
    }
    return {
      mode: 'sentinel' as const,
      sentinels,
      name,
      ...(sentinelPassword === undefined ? {} : { sentinelPassword }),
      ...(db === undefined ? {} : { db }),
      ...withPasswordField,
    };
  }
  if (nodes === undefined) return undefined;
  if (db !== undefined) scope.problem('redis.db: Redis Cluster has only db 0');
  return { mode: 'cluster' as const, nodes, ...withPasswordField };
}

export function resolveStreams(
  streams: Record<string, StreamSettings>,
  scope: Scope,
  embedded: boolean,
): Record<string, StreamSettings> {
  if (Object.keys(streams).length > 0) return streams;
  if (scope.production) {
    scope.problem(missingSetting('streams', ['GATEWAY_STREAMS'], ['streams']));
  } else if (embedded) {
    scope.warning(
      `no streams configured (GATEWAY_STREAMS or streams): the embedded emulator gets one stream "${DEV_STREAM}"`,
    );
    return {
      [DEV_STREAM]: { disStream: DEV_STREAM, partitions: 1, type: 'COMMON', ordering: 'none' },
    };
  } else {
    scope.warning('no streams configured (GATEWAY_STREAMS or streams): every stream answers 404');
  }
  return streams;
}

function checkHmac(source: WebhookSourceSettings, at: string, scope: Scope): void {
  const { hmac } = source;
  if (source.profile !== 'hmac') {
    if (hmac !== undefined) scope.problem(`${at}.hmac: only for profile hmac`);
    return;
  }
  if (hmac === undefined) {
    scope.problem(`${at}.hmac: required for profile hmac (header, algorithm, encoding)`);
    return;
  }
  const template = hmac.signedContent;
  if (template === undefined) return;
  const unknown = [...template.matchAll(/\{([^}]*)\}/g)]
    .map((match) => match[1])
    .filter((name) => name !== 'timestamp' && name !== 'body');
  if (unknown.length > 0)
    scope.problem(`${at}.hmac.signed_content: only {timestamp} and {body} may be used`);
  if (!template.includes('{body}')) scope.problem(`${at}.hmac.signed_content: must contain {body}`);
  if (template.includes('{timestamp}') && hmac.timestampHeader === undefined)
    scope.problem(
      `${at}.hmac.signed_content: uses {timestamp}, so hmac.timestamp_header is required`,
    );
}

/** `whsec_` + Base64 (the prefix is optional in the spec's own libraries). */
function isStandardWebhooksSecret(secret: string): boolean {
  const body = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  return body.length > 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(body) && body.length % 4 === 0;
}

export function resolveWebhooks(
  webhooks: WebhooksSettings,
  scope: Scope,
  { streamNames, waits }: SectionLinks,
) {
  const sources = Object.entries(webhooks.sources).map(([name, settings]) => {
    const at = `webhooks.sources.${name}`;
    const { secretEnv, secretsEnv, secretFile, secretFiles, ...source } = settings;
    if (streamNames !== undefined && !streamNames.has(source.stream))
      scope.problem(`${at}.stream: "${source.stream}" is not a key of streams`);
    const { values: secrets, failed } = resolveSecretList(scope.secrets, at, {
      secretEnv,
      secretsEnv,
      secretFile,
      secretFiles,
    });
    if (secrets.length === 0 && !failed)
      scope.problem(
        `${at}: needs at least one secret (secret_env, secrets_env, secret_file or secret_files)`,
      );
    if (source.profile === 'standard-webhooks') {
      const bad = secrets.filter((secret) => !isStandardWebhooksSecret(secret)).length;
      if (bad > 0) scope.problem(`${at}: ${bad} secret(s) are not whsec_ + Base64`);
    }
    checkHmac(source, at, scope);
    return [name, { ...source, secrets }] as const;
  });
  // Longer than the window in which one signed timestamp passes (replayTtlS explains why).
  const widest = Math.max(REPLAY_MIN_TOLERANCE_S, ...sources.map(([, s]) => s.toleranceS));
  const needed = replayTtlS(Math.max(0, ...sources.map(([, s]) => s.toleranceS)));
  if (webhooks.replayTtlS !== undefined && webhooks.replayTtlS < needed)
    scope.problem(
      `webhooks.replay_ttl_s: must be at least ${needed} (2 × the widest tolerance_s + 1, at least 600), or a replayed delivery could pass once its id is forgotten`,
    );
  if (webhooks.syncWaitMs !== undefined && webhooks.syncWaitMs > waits.maxWaitMs)
    scope.problem('webhooks.sync_wait_ms: must not exceed server.max_wait_ms');
  return {
    sources: Object.fromEntries(sources),
    syncWaitMs: webhooks.syncWaitMs ?? Math.min(waits.defaultWaitMs, SYNC_WAIT_CAP_MS),
    replayTtlS: webhooks.replayTtlS ?? replayTtlS(widest),
  };
}

const WRITE_SCOPE = 'dis:write:';

/** Front-door clients with their SKs read; every AK once, every write scope naming a stream. */
export function resolveFrontdoor(
  frontdoor: FrontdoorSettings,
  scope: Scope,
  { streamNames }: SectionLinks,
) {
  const seen = new Map<string, string>();
  const clients = Object.entries(frontdoor.clients).map(([name, settings]) => {
    const at = `frontdoor.clients.${name}`;
    const { skEnv, skFile, scopes, ...client } = settings;
    const other = seen.get(client.ak);
    if (other !== undefined) scope.problem(`${at}.ak: the same AK as frontdoor.clients.${other}`);
    seen.set(client.ak, name);
    checkOneOf(scope, at, { sk_env: skEnv, sk_file: skFile });
    const read = scope.secrets.resolve({
      envRef: { key: `${at}.sk_env`, name: skEnv },
      fileRef: { key: `${at}.sk_file`, path: skFile },
    });
    let sk = '';
    if (read.kind === 'value') sk = read.value;
    else if (read.kind === 'absent') scope.problem(`${at}: needs sk_env or sk_file`);
    if (read.kind === 'value' && sk.length < 16)
      scope.problem(`${at}: the SK must be at least 16 characters`);
    const list = typeof scopes === 'string' ? scopes.split(' ').filter((s) => s !== '') : scopes;
    for (const granted of list) {
      const stream = granted.startsWith(WRITE_SCOPE) ? granted.slice(WRITE_SCOPE.length) : '';
      if (streamNames !== undefined && stream !== '*' && !streamNames.has(stream))
        scope.problem(
          `${at}.scopes: "${granted}" grants no configured stream (dis:write:<a key of streams> or dis:write:*)`,
        );
    }
    return [name, { ...client, sk, scopes: list }] as const;
  });
  return { ...frontdoor, clients: Object.fromEntries(clients) };
}

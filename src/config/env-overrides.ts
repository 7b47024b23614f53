import { STREAM_NAME } from '../dis/wire.ts';

// The non-secret environment variables of design.md §10, written into the file document before the
// schema runs, so one schema checks both. `origins` remembers which paths came from which variable
// so a schema complaint about them names the variable. Secrets are resolved later (secrets.ts).

export type Env = Readonly<Record<string, string | undefined>>;

/** Problems and warnings of one load, in the order they were found. */
export interface Findings {
  readonly problems: string[];
  readonly warnings: string[];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `['streams', 'clicks', 'partitions']` → `streams.clicks.partitions`; indexes as `[0]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else text += text === '' ? String(part) : `.${String(part)}`;
  }
  return text === '' ? '(top level)' : text;
}

export interface Overridden {
  readonly document: Record<string, unknown>;
  /** Formatted config path → the env var that set it. */
  readonly origins: ReadonlyMap<string, string>;
}

/** An env var's value, trimmed; empty counts as unset (manifests often template empty strings). */
export function envValue(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

function parseStreams(raw: string, problems: string[]): Record<string, unknown> {
  const streams: Record<string, unknown> = {};
  for (const item of splitList(raw)) {
    const where = `GATEWAY_STREAMS entry ${quote(item)}`;
    const match = /^([^=]*)=([^:]*):([^:]*)(?::([^:]*))?$/.exec(item);
    if (match === null) {
      problems.push(`${where}: expected logical=dis_stream:partitions[:type]`);
      continue;
    }
    const [, name = '', disStream = '', partitions = '', type = 'COMMON'] = match;
    const before = problems.length;
    if (!STREAM_NAME.test(name))
      problems.push(`${where}: logical name must match [A-Za-z0-9_-]{1,64}`);
    if (!STREAM_NAME.test(disStream))
      problems.push(`${where}: DIS stream name must match [A-Za-z0-9_-]{1,64}`);
    if (!/^\d{1,4}$/.test(partitions) || Number(partitions) < 1 || Number(partitions) > 1000)
      problems.push(`${where}: partitions must be a whole number 1..1000`);
    const upperType = type.toUpperCase();
    if (upperType !== 'COMMON' && upperType !== 'ADVANCED')
      problems.push(`${where}: type must be COMMON or ADVANCED`);
    if (Object.hasOwn(streams, name)) problems.push(`${where}: ${name} is listed twice`);
    if (problems.length === before) {
      streams[name] = { dis_stream: disStream, partitions: Number(partitions), type: upperType };
    }
  }
  return streams;
}

/** Applies the environment over a copy of the file document; bad values become problems. */
export function applyEnvOverrides(
  fileDocument: Record<string, unknown>,
  env: Env,
  findings: Findings,
): Overridden {
  const document = structuredClone(fileDocument);
  const origins = new Map<string, string>();

  const sectionAt = (path: readonly string[]): Record<string, unknown> | undefined => {
    let node: Record<string, unknown> = document;
    for (const key of path) {
      const child = node[key];
      // A section that is not a mapping is left alone: the schema reports the file's mistake.
      if (child === undefined) node[key] = {};
      else if (!isRecord(child)) return undefined;
      const next = node[key];
      if (!isRecord(next)) return undefined;
      node = next;
    }
    return node;
  };
  const set = (name: string, path: readonly string[], value: unknown): void => {
    const key = path.at(-1);
    const parent = sectionAt(path.slice(0, -1));
    if (key === undefined || parent === undefined) return;
    parent[key] = value;
    origins.set(formatPath(path), name);
  };
  const text = (name: string, path: readonly string[]): void => {
    const value = envValue(env, name);
    if (value !== undefined) set(name, path, value);
  };
  const integer = (name: string, path: readonly string[]): void => {
    const value = envValue(env, name);
    if (value === undefined) return;
    if (/^\d{1,15}$/.test(value)) set(name, path, Number(value));
    else findings.problems.push(`${name}: must be a whole number, got ${quote(value)}`);
  };
  const boolean = (name: string, path: readonly string[]): void => {
    const value = envValue(env, name);
    if (value === undefined) return;
    if (value === 'true' || value === 'false') set(name, path, value === 'true');
    else findings.problems.push(`${name}: must be true or false, got ${quote(value)}`);
  };
  const list = (name: string, path: readonly string[]): void => {
    const value = envValue(env, name);
    if (value !== undefined) set(name, path, splitList(value));
  };

  text('HOST', ['server', 'host']);
  integer('PORT', ['server', 'port']);
  const trustProxy = envValue(env, 'TRUST_PROXY');
  if (trustProxy !== undefined) {
    set(
      'TRUST_PROXY',
      ['server', 'trust_proxy'],
      /^\d+$/.test(trustProxy) ? Number(trustProxy) : trustProxy,
    );
  }
  integer('SHUTDOWN_DELAY_MS', ['server', 'shutdown_delay_ms']);
  integer('SHUTDOWN_TIMEOUT_MS', ['server', 'shutdown_timeout_ms']);
  text('LOG_LEVEL', ['log', 'level']);

  text('DIS_ENDPOINT', ['dis', 'endpoint']);
  text('DIS_REGION', ['dis', 'region']);
  text('DIS_PROJECT_ID', ['dis', 'project_id']);
  boolean('DIS_ALLOW_INSECURE_HTTP', ['dis', 'allow_insecure_http']);
  text('DIS_AUTH', ['dis', 'auth', 'type']);
  text('IAM_ENDPOINT', ['dis', 'auth', 'iam_endpoint']);
  text('IAM_USER', ['dis', 'auth', 'user']);
  text('IAM_DOMAIN', ['dis', 'auth', 'domain']);

  const redisUrl = envValue(env, 'REDIS_URL');
  if (redisUrl !== undefined) {
    const redis = sectionAt(['redis']);
    for (const key of ['sentinels', 'nodes', 'name', 'db']) {
      if (redis !== undefined && redis[key] !== undefined) {
        findings.warnings.push(`REDIS_URL is set, so redis.${key} from the config file is ignored`);
        Reflect.deleteProperty(redis, key);
      }
    }
    set('REDIS_URL', ['redis', 'url'], redisUrl);
  }

  list('JWT_ISSUER', ['auth', 'jwt', 'issuer']);
  list('JWT_AUDIENCE', ['auth', 'jwt', 'audience']);
  list('JWT_ALGORITHMS', ['auth', 'jwt', 'algorithms']);
  text('JWKS_URL', ['auth', 'jwt', 'jwks_url']);
  const publicKeyFile = envValue(env, 'JWT_PUBLIC_KEY_FILE');
  if (publicKeyFile !== undefined) {
    set('JWT_PUBLIC_KEY_FILE', ['auth', 'jwt', 'public_keys'], [{ file: publicKeyFile }]);
  }

  const streams = envValue(env, 'GATEWAY_STREAMS');
  if (streams !== undefined) {
    for (const [name, entry] of Object.entries(parseStreams(streams, findings.problems))) {
      set('GATEWAY_STREAMS', ['streams', name], entry);
    }
  }
  return { document, origins };
}

/** Names the env var behind a schema path when the value came from the environment. */
export function describePath(
  path: readonly PropertyKey[],
  origins: ReadonlyMap<string, string>,
): string {
  const formatted = formatPath(path);
  for (let length = path.length; length > 0; length -= 1) {
    const origin = origins.get(formatPath(path.slice(0, length)));
    if (origin !== undefined) return `${origin} (${formatted})`;
  }
  return formatted;
}

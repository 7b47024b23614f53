import { checkOneOf, missingSetting, optional, type BuildContext } from './build-context.ts';
import type { FileConfig } from './file-schema.ts';
import type { SecretResult } from './secrets.ts';
import type { RedisConfig, RedisConnection } from './types.ts';

type RedisFile = FileConfig['redis'];

function valueOf(result: SecretResult): string | undefined {
  return result.kind === 'value' ? result.value : undefined;
}

/** One URL for the standalone client, so nothing downstream has to merge a password back in. */
function withPassword(url: string, password: string | undefined, context: BuildContext): string {
  if (password === undefined) return url;
  const parsed = new URL(url);
  if (parsed.password !== '') {
    context.problems.push(
      'REDIS_URL / redis.url: already holds a password; drop it or redis.password_env / redis.password_file',
    );
    return url;
  }
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

function buildConnection(redis: RedisFile, context: BuildContext): RedisConnection | undefined {
  const { problems, secrets } = context;
  checkOneOf(context, 'redis', {
    password_env: redis.password_env,
    password_file: redis.password_file,
  });
  const password = valueOf(
    secrets.resolve({
      envRef: { key: 'redis.password_env', name: redis.password_env },
      fileRef: { key: 'redis.password_file', path: redis.password_file },
    }),
  );
  if (redis.url !== undefined) {
    if (redis.db !== undefined)
      problems.push('redis.db: only for sentinel; a standalone URL carries its db as the path');
    return { mode: 'standalone', url: withPassword(redis.url, password, context) };
  }
  if (redis.sentinels !== undefined) {
    checkOneOf(context, 'redis', {
      sentinel_password_env: redis.sentinel_password_env,
      sentinel_password_file: redis.sentinel_password_file,
    });
    const sentinelPassword = valueOf(
      secrets.resolve({
        envRef: { key: 'redis.sentinel_password_env', name: redis.sentinel_password_env },
        fileRef: { key: 'redis.sentinel_password_file', path: redis.sentinel_password_file },
      }),
    );
    if (redis.name === undefined) {
      problems.push('redis.name: required with redis.sentinels (the monitored master name)');
      return undefined;
    }
    return {
      mode: 'sentinel',
      sentinels: redis.sentinels,
      name: redis.name,
      ...optional('password', password),
      ...optional('sentinelPassword', sentinelPassword),
      ...optional('db', redis.db),
    };
  }
  if (redis.nodes !== undefined) {
    if (redis.db !== undefined) problems.push('redis.db: Redis Cluster has only db 0');
    return { mode: 'cluster', nodes: redis.nodes, ...optional('password', password) };
  }
  return undefined;
}

/**
 * Standalone (url), Sentinel (sentinels + name) or Cluster (nodes); with none of them, the in-memory
 * store outside production (with a warning: limits then hold per instance only) and a problem in it.
 */
export function buildRedis(redis: RedisFile, context: BuildContext): RedisConfig | undefined {
  const { problems, warnings, production } = context;
  const shapes = (['url', 'sentinels', 'nodes'] as const).filter((key) => redis[key] !== undefined);
  if (shapes.length > 1) {
    problems.push(`redis: give only one of ${shapes.map((key) => `redis.${key}`).join(', ')}`);
    return undefined;
  }
  if (shapes.length === 0) {
    if (production) {
      problems.push(
        missingSetting('Redis', ['REDIS_URL'], ['redis.url', 'redis.sentinels', 'redis.nodes']),
      );
      return undefined;
    }
    warnings.push(
      'no Redis configured (REDIS_URL or redis.url/sentinels/nodes): using an in-memory store; rate limits, idempotency and the spool are per instance and lost on restart',
    );
    return { mode: 'memory' };
  }
  if (redis.name !== undefined && redis.sentinels === undefined)
    problems.push('redis.name: only for redis.sentinels');
  if (
    redis.sentinels === undefined &&
    (redis.sentinel_password_env !== undefined || redis.sentinel_password_file !== undefined)
  )
    problems.push('redis.sentinel_password_env / _file: only for redis.sentinels');
  const connection = buildConnection(redis, context);
  if (connection === undefined) return undefined;
  return {
    ...connection,
    commandTimeoutMs: redis.command_timeout_ms,
    connectTimeoutMs: redis.connect_timeout_ms,
    onError: redis.on_error,
  };
}

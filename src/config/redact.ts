import type { Config, DisConfig, RedisConfig } from './types.ts';

// The effective config as printable JSON. Secret fields are replaced by construction (not by a
// search for their values), so a new secret field must be added here: the tests set every secret
// and look for its value in the output.

export const REDACTED = '[redacted]';

/** Enough of an AK to tell which key is in use; the AK is an id, the SK is the secret. */
function maskAccessKey(ak: string): string {
  return ak.length > 8 ? `${ak.slice(0, 4)}…` : REDACTED;
}

function redactUrlPassword(text: string): string {
  if (!URL.canParse(text)) return REDACTED;
  const url = new URL(text);
  if (url.password === '' && url.username === '') return text;
  const user = url.username === '' ? '' : url.username;
  const password = url.password === '' ? '' : `:${REDACTED}`;
  return `${url.protocol}//${user}${password}@${url.host}${url.pathname}${url.search}`;
}

function redactDis(dis: DisConfig): unknown {
  if (dis.mode === 'embedded') return dis;
  const { auth } = dis;
  if (auth.type === 'token') return { ...dis, auth: { ...auth, password: REDACTED } };
  return {
    ...dis,
    auth: {
      ...auth,
      ak: maskAccessKey(auth.ak),
      sk: REDACTED,
      ...(auth.securityToken === undefined ? {} : { securityToken: REDACTED }),
    },
  };
}

function redactRedis(redis: RedisConfig): unknown {
  if (redis.mode === 'memory') return redis;
  if (redis.mode === 'standalone') return { ...redis, url: redactUrlPassword(redis.url) };
  const password = redis.password === undefined ? {} : { password: REDACTED };
  if (redis.mode === 'cluster') return { ...redis, ...password };
  const sentinelPassword =
    redis.sentinelPassword === undefined ? {} : { sentinelPassword: REDACTED };
  return { ...redis, ...password, ...sentinelPassword };
}

export function redactConfig(config: Config): unknown {
  const { jwt } = config.auth;
  const sources = Object.fromEntries(
    Object.entries(config.webhooks.sources).map(([name, source]) => [
      name,
      { ...source, secrets: source.secrets.map(() => REDACTED) },
    ]),
  );
  return {
    ...config,
    dis: redactDis(config.dis),
    disTargets: Object.fromEntries(
      Object.entries(config.disTargets).map(([name, target]) => [name, redactDis(target)]),
    ),
    redis: redactRedis(config.redis),
    auth: {
      jwt: {
        ...jwt,
        secrets: jwt.secrets.map(() => REDACTED),
        hsKeys: jwt.hsKeys.map(({ kid }) => ({ kid, secret: REDACTED })),
        // Public keys are not secret, but a PEM is noise in a config dump.
        publicKeys: jwt.publicKeys.map((key) => ({
          ...key,
          pem: `${key.pem.split('\n')[0] ?? ''} … (${key.pem.length} characters)`,
        })),
      },
    },
    webhooks: { ...config.webhooks, sources },
    frontdoor: {
      ...config.frontdoor,
      clients: Object.fromEntries(
        Object.entries(config.frontdoor.clients).map(([name, client]) => [
          name,
          { ...client, sk: REDACTED },
        ]),
      ),
    },
  };
}

import { isIP } from 'node:net';
import { z } from 'zod';

// Small validators shared by the sections of the file schema.

export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The name of an environment variable that holds a secret (`sk_env: DIS_SK`). */
export const envName = z
  .string()
  .regex(ENV_NAME, { error: 'must be an environment variable name' });

/** The path of a file that holds a secret; read through the injected readFile. */
export const filePath = z.string().min(1, { error: 'must be a file path' });

export const positiveInt = (max: number) =>
  z
    .int({ error: 'must be an integer' })
    .min(1, { error: 'must be at least 1' })
    .max(max, { error: `must be at most ${max}` });

export const nonNegativeInt = (max: number) =>
  z
    .int({ error: 'must be an integer' })
    .min(0, { error: 'must be at least 0' })
    .max(max, { error: `must be at most ${max}` });

const HOUR_MS = 3_600_000;
export const durationMs = nonNegativeInt(HOUR_MS);

/** RFC 6901 pointer into a JSON document; the empty pointer (whole document) is no partition key. */
export const jsonPointer = z
  .string()
  .regex(/^(\/([^~/]|~[01])*)+$/, { error: 'must be an RFC 6901 JSON pointer like /user_id' });

export const stringList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
  error: 'must be a string or a non-empty list of strings',
});

export function httpUrl(what: string) {
  return z.string().refine(
    (value) => {
      if (!URL.canParse(value)) return false;
      const url = new URL(value);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '';
    },
    { error: `must be an http(s) URL of ${what} without credentials` },
  );
}

const PROXY_PRESETS = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isProxyAddress(entry: string): boolean {
  if (PROXY_PRESETS.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * Express `trust proxy` as a hop count or an address list. `true` trusts any X-Forwarded-For, so a
 * caller could pick its own IP (and rate-limit key): always refused. `false` means 0 hops.
 */
export const trustProxy = z
  .union([
    z.int().min(0),
    z.boolean(),
    z.string(),
    z.array(z.string()).min(1, { error: 'must list at least one address' }),
  ])
  .transform((value, ctx): number | string[] => {
    if (value === true || value === 'true') {
      ctx.issues.push({
        code: 'custom',
        input: value,
        message:
          'true is not allowed (it trusts any X-Forwarded-For); give a hop count or a CIDR list',
      });
      return z.NEVER;
    }
    if (value === false) return 0;
    if (typeof value === 'number') return value;
    const entries = (typeof value === 'string' ? value.split(',') : value)
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
    const bad = entries.filter((entry) => !isProxyAddress(entry));
    if (entries.length === 0 || bad.length > 0) {
      ctx.issues.push({
        code: 'custom',
        input: value,
        message: `must be a hop count or IPs/CIDRs (or loopback, linklocal, uniquelocal); bad: ${bad.join(', ') || '(empty)'}`,
      });
      return z.NEVER;
    }
    return entries;
  });

import { createPublicKey, type KeyObject } from 'node:crypto';
import { JWS_ALGORITHMS, type JwsAlgorithm } from '../auth/algorithms.ts';
import { splitList } from './env-overrides.ts';
import type { JwtSettings } from './settings.ts';
import {
  checkOneOf,
  missingSetting,
  resolveSecretList,
  type SecretListRefs,
  type Scope,
} from './secrets.ts';

// The auth.jwt section: HS secrets, PEM public keys for RS*/PS*/ES* (read, split — one file may hold
// several keys — and parsed once here so a bad key fails at startup), the algorithm allow-list they
// must fit, and the dev defaults.

// `auth.jwt.algorithms` may name every algorithm the verifier can check.
type JwtAlgorithm = JwsAlgorithm;

interface LoadedKey {
  readonly key: { readonly kid?: string; readonly pem: string };
  readonly object: KeyObject;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

function splitPem(text: string, where: string, kid: string | undefined, scope: Scope): LoadedKey[] {
  const blocks = [...text.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) {
    scope.problem(`${where}: holds no PEM block`);
    return [];
  }
  if (kid !== undefined && blocks.length > 1) {
    scope.problem(`${where}: has a kid but holds ${blocks.length} keys; give one key per kid`);
    return [];
  }
  const keys: LoadedKey[] = [];
  blocks.forEach((block, index) => {
    const label = blocks.length > 1 ? `${where} (key ${index + 1})` : where;
    if (block[1]?.includes('PRIVATE KEY') === true) {
      scope.problem(`${label}: is a private key; the gateway needs only the public key`);
      return;
    }
    try {
      const object = createPublicKey(block[0]);
      keys.push({ key: kid === undefined ? { pem: block[0] } : { kid, pem: block[0] }, object });
    } catch {
      scope.problem(`${label}: is not a valid PEM public key or certificate`);
    }
  });
  return keys;
}

function loadPublicKeys(entries: JwtSettings['publicKeys'], scope: Scope): LoadedKey[] {
  const fromEnv = scope.env.JWT_PUBLIC_KEY_FILE?.trim();
  const keys: LoadedKey[] = [];
  (entries ?? []).forEach((entry, index) => {
    const where =
      fromEnv !== undefined && fromEnv !== ''
        ? 'JWT_PUBLIC_KEY_FILE'
        : `auth.jwt.public_keys[${index}]`;
    checkOneOf(scope, where, { pem: entry.pem, file: entry.file });
    if (entry.pem === undefined && entry.file === undefined) {
      scope.problem(`${where}: give pem (the key itself) or file (its path)`);
      return;
    }
    let text = entry.pem;
    if (text === undefined && entry.file !== undefined) {
      const label = where === 'JWT_PUBLIC_KEY_FILE' ? where : `${where}.file`;
      const read = scope.secrets.fromFile(entry.file, label);
      if (read.kind !== 'value') return;
      text = read.value;
    }
    if (text !== undefined) keys.push(...splitPem(text, where, entry.kid, scope));
  });
  const kids = keys.flatMap(({ key }) => (key.kid === undefined ? [] : [key.kid]));
  const duplicates = kids.filter((kid, index) => kids.indexOf(kid) !== index);
  if (duplicates.length > 0)
    scope.problem(
      `auth.jwt.public_keys: kid ${[...new Set(duplicates)].join(', ')} is given twice`,
    );
  return keys;
}

const CURVE_OF: Readonly<Record<string, string>> = {
  ES256: 'prime256v1',
  ES384: 'secp384r1',
  ES512: 'secp521r1',
};

/** Whether a public key can verify tokens signed with the algorithm. */
function keyFits(object: KeyObject, algorithm: JwtAlgorithm): boolean {
  const type = object.asymmetricKeyType;
  if (algorithm.startsWith('RS') || algorithm.startsWith('PS'))
    return type === 'rsa' || type === 'rsa-pss';
  if (algorithm.startsWith('ES'))
    return type === 'ec' && object.asymmetricKeyDetails?.namedCurve === CURVE_OF[algorithm];
  return false;
}

/** The algorithm a key is most likely used with, for dev defaults. */
function defaultAlgorithmFor(object: KeyObject): JwtAlgorithm | undefined {
  if (object.asymmetricKeyType === 'rsa' || object.asymmetricKeyType === 'rsa-pss') return 'RS256';
  const curve = object.asymmetricKeyDetails?.namedCurve;
  if (curve === 'prime256v1') return 'ES256';
  if (curve === 'secp384r1') return 'ES384';
  if (curve === 'secp521r1') return 'ES512';
  return undefined;
}

const DEV_ISSUER = 'dis-gateway-dev';
const DEV_AUDIENCE = 'dis-gateway';
/** RFC 7518 §3.2: an HS256 key at least as long as the hash. */
const MIN_SECRET_BYTES = 32;

function isAlgorithm(value: string): value is JwtAlgorithm {
  return JWS_ALGORITHMS.some((algorithm) => algorithm === value);
}

function toList(value: string | readonly string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? [value] : [...value];
}

/**
 * JWT_SECRET (or JWT_SECRET_FILE) overrides the file's secret references. Every value, from any
 * source, is a comma-separated list so that rotation needs no new variable: HS secrets therefore
 * cannot contain commas.
 */
function loadSecrets(
  refs: SecretListRefs,
  scope: Scope,
): { readonly secrets: string[]; readonly failed: boolean } {
  const fromEnv = scope.secrets.fromEnv('JWT_SECRET');
  if (fromEnv.kind === 'value') return { secrets: splitList(fromEnv.value), failed: false };
  if (fromEnv.kind === 'failed') return { secrets: [], failed: true };
  // Outside production a named but unset variable falls back to the dev secret, with a warning.
  const onMissingRef = scope.production
    ? undefined
    : (message: string) => {
        scope.warning(`${message}; using a generated dev secret instead`);
      };
  const { values, failed } = resolveSecretList(scope.secrets, 'auth.jwt', refs, onMissingRef);
  return { secrets: values.flatMap(splitList), failed };
}

/** `auth.jwt.hs_keys`: each entry's secret (one value, no comma list: one kid names one key). */
function loadHsKeys(
  entries: JwtSettings['hsKeys'],
  scope: Scope,
): { readonly keys: { kid: string; secret: string }[]; readonly failed: boolean } {
  const keys: { kid: string; secret: string }[] = [];
  let failed = false;
  (entries ?? []).forEach((entry, index) => {
    const where = `auth.jwt.hs_keys[${index}]`;
    checkOneOf(scope, where, { secret_env: entry.secretEnv, secret_file: entry.secretFile });
    const read =
      entry.secretEnv !== undefined
        ? scope.secrets.fromEnv(entry.secretEnv)
        : entry.secretFile !== undefined
          ? scope.secrets.fromFile(entry.secretFile, `${where}.secret_file`)
          : undefined;
    if (read === undefined) scope.problem(`${where}: give secret_env or secret_file`);
    else if (read.kind === 'value') keys.push({ kid: entry.kid, secret: read.value.trim() });
    else if (read.kind === 'failed') failed = true;
    else {
      failed = true;
      scope.problem(`${where}.secret_env names ${entry.secretEnv ?? ''}, which is not set`);
    }
  });
  const kids = keys.map(({ kid }) => kid);
  const duplicates = kids.filter((kid, index) => kids.indexOf(kid) !== index);
  if (duplicates.length > 0)
    scope.problem(`auth.jwt.hs_keys: kid ${[...new Set(duplicates)].join(', ')} is given twice`);
  return { keys, failed };
}

function parseAlgorithms(raw: readonly string[], scope: Scope): JwtAlgorithm[] {
  const algorithms: JwtAlgorithm[] = [];
  for (const name of raw) {
    if (name.toLowerCase() === 'none') {
      scope.problem('JWT_ALGORITHMS / auth.jwt.algorithms: "none" is never allowed');
    } else if (!isAlgorithm(name)) {
      scope.problem(
        `JWT_ALGORITHMS / auth.jwt.algorithms: unknown algorithm ${JSON.stringify(name)}; use ${JWS_ALGORITHMS.join(', ')}`,
      );
    } else if (!algorithms.includes(name)) algorithms.push(name);
  }
  return algorithms;
}

function checkKeysFit(
  algorithms: readonly JwtAlgorithm[],
  secrets: readonly string[],
  keys: readonly LoadedKey[],
  jwksUrl: string | undefined,
  scope: Scope,
): void {
  for (const algorithm of algorithms) {
    if (algorithm.startsWith('HS')) {
      if (secrets.length === 0)
        scope.problem(
          `auth.jwt.algorithms: ${algorithm} needs a secret (JWT_SECRET or auth.jwt.secret_env)`,
        );
    } else if (jwksUrl === undefined && !keys.some(({ object }) => keyFits(object, algorithm))) {
      scope.problem(
        `auth.jwt.algorithms: ${algorithm} needs a fitting public key (JWT_PUBLIC_KEY_FILE or auth.jwt.public_keys) or a JWKS URL`,
      );
    }
  }
  if (secrets.length > 0 && !algorithms.some((algorithm) => algorithm.startsWith('HS')))
    scope.warning('JWT secrets are configured but no HS algorithm is allowed: they are unused');
  const short = secrets.filter((secret) => Buffer.byteLength(secret) < MIN_SECRET_BYTES).length;
  // The verifier (src/auth) refuses them too; saying so here lists it with everything else.
  if (short > 0) scope.problem(`${short} JWT secret(s) shorter than ${MIN_SECRET_BYTES} bytes`);
}

/**
 * The verifier's settings: keys read, algorithms checked against them. Outside production, with no
 * key at all, `dev` is set (the composition root generates an HS256 secret) and issuer and audience
 * default to the dev ones.
 */
export function resolveJwt(jwt: JwtSettings, scope: Scope) {
  const { production } = scope;
  const { algorithms: allowList, issuer: issuers, audience: audiences, ...rest } = jwt;
  const { secretEnv, secretsEnv, secretFile, secretFiles, publicKeys, hsKeys, ...others } = rest;
  const { jwksMaxAgeS, ...settings } = others;
  const { jwksUrl } = settings;
  // A secret source that failed is already reported; "missing" problems on top would be noise.
  const unnamed = loadSecrets({ secretEnv, secretsEnv, secretFile, secretFiles }, scope);
  const named = loadHsKeys(hsKeys, scope);
  const secretsFailed = unnamed.failed || named.failed;
  const { secrets } = unnamed;
  // Every HS secret, named or not, for the checks that do not care about kids.
  const allSecrets = [...secrets, ...named.keys.map(({ secret }) => secret)];
  const keys = loadPublicKeys(publicKeys, scope);
  if (production && jwksUrl !== undefined && !jwksUrl.startsWith('https:'))
    scope.problem('JWKS_URL / auth.jwt.jwks_url: must be an https URL in production');
  const hasKey = allSecrets.length > 0 || keys.length > 0 || jwksUrl !== undefined;
  const dev = !production && !hasKey;
  let issuer = toList(issuers);
  let audience = toList(audiences);
  let algorithms = allowList === undefined ? undefined : parseAlgorithms(allowList, scope);

  if (production) {
    if (!hasKey && !secretsFailed)
      scope.problem(
        missingSetting(
          'JWT verification key',
          ['JWT_SECRET', 'JWT_SECRET_FILE', 'JWT_PUBLIC_KEY_FILE', 'JWKS_URL'],
          [
            'auth.jwt.secret_env',
            'auth.jwt.secrets_env',
            'auth.jwt.secret_file',
            'auth.jwt.secret_files',
            'auth.jwt.public_keys',
            'auth.jwt.jwks_url',
          ],
        ),
      );
    if (issuer === undefined)
      scope.problem(missingSetting('JWT issuer', ['JWT_ISSUER'], ['auth.jwt.issuer']));
    if (audience === undefined)
      scope.problem(missingSetting('JWT audience', ['JWT_AUDIENCE'], ['auth.jwt.audience']));
    if (algorithms === undefined)
      scope.problem(missingSetting('JWT algorithms', ['JWT_ALGORITHMS'], ['auth.jwt.algorithms']));
  } else if (dev) {
    if (algorithms !== undefined && !algorithms.includes('HS256'))
      scope.warning(
        'no JWT key configured: the generated dev secret uses HS256, added to the allowed algorithms',
      );
    algorithms = [...new Set<JwtAlgorithm>([...(algorithms ?? []), 'HS256'])];
  } else if (algorithms === undefined) {
    algorithms = [
      ...new Set<JwtAlgorithm>([
        ...(allSecrets.length > 0 ? (['HS256'] as const) : []),
        ...keys.flatMap(({ object }) => defaultAlgorithmFor(object) ?? []),
        ...(jwksUrl !== undefined ? (['RS256', 'ES256'] as const) : []),
      ]),
    ];
    scope.warning(
      `JWT_ALGORITHMS / auth.jwt.algorithms not set: allowing ${algorithms.join(', ')}`,
    );
  }
  if (!production) {
    if (issuer === undefined) {
      issuer = [DEV_ISSUER];
      if (!dev)
        scope.warning(`JWT_ISSUER / auth.jwt.issuer not set: requiring iss "${DEV_ISSUER}"`);
    }
    if (audience === undefined) {
      audience = [DEV_AUDIENCE];
      if (!dev)
        scope.warning(`JWT_AUDIENCE / auth.jwt.audience not set: requiring aud "${DEV_AUDIENCE}"`);
    }
  }
  const allowed = algorithms ?? [];
  if (!dev && !secretsFailed) checkKeysFit(allowed, allSecrets, keys, jwksUrl, scope);
  return {
    algorithms: allowed,
    issuer: issuer ?? [],
    audience: audience ?? [],
    secrets,
    hsKeys: named.keys,
    publicKeys: keys.map(({ key }) => key),
    jwksMaxAgeMs: jwksMaxAgeS * 1000,
    ...settings,
    dev,
  };
}

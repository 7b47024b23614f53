import { missingSetting, optional, type BuildContext } from './build-context.ts';
import { splitList } from './env-overrides.ts';
import type { FileConfig } from './file-schema.ts';
import { defaultAlgorithmFor, keyFits, loadPublicKeys, type LoadedKey } from './jwt-keys.ts';
import { resolveSecretList } from './secrets.ts';
import { JWT_ALGORITHMS, type JwtAlgorithm, type JwtConfig } from './types.ts';

type JwtFile = FileConfig['auth']['jwt'];

const DEV_ISSUER = 'dis-gateway-dev';
const DEV_AUDIENCE = 'dis-gateway';
/** RFC 7518 §3.2: an HS256 key at least as long as the hash. */
const MIN_SECRET_BYTES = 32;

function isAlgorithm(value: string): value is JwtAlgorithm {
  return JWT_ALGORITHMS.some((algorithm) => algorithm === value);
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
  jwt: JwtFile,
  context: BuildContext,
): { readonly secrets: string[]; readonly failed: boolean } {
  const fromEnv = context.secrets.fromEnv('JWT_SECRET');
  if (fromEnv.kind === 'value') return { secrets: splitList(fromEnv.value), failed: false };
  if (fromEnv.kind === 'failed') return { secrets: [], failed: true };
  // Outside production a named but unset variable falls back to the dev secret, with a warning.
  const onMissingRef = context.production
    ? undefined
    : (message: string) =>
        context.warnings.push(`${message}; using a generated dev secret instead`);
  const { values, failed } = resolveSecretList(context.secrets, 'auth.jwt', jwt, onMissingRef);
  return { secrets: values.flatMap(splitList), failed };
}

function parseAlgorithms(raw: readonly string[], context: BuildContext): JwtAlgorithm[] {
  const algorithms: JwtAlgorithm[] = [];
  for (const name of raw) {
    if (name.toLowerCase() === 'none') {
      context.problems.push('JWT_ALGORITHMS / auth.jwt.algorithms: "none" is never allowed');
    } else if (!isAlgorithm(name)) {
      context.problems.push(
        `JWT_ALGORITHMS / auth.jwt.algorithms: unknown algorithm ${JSON.stringify(name)}; use ${JWT_ALGORITHMS.join(', ')}`,
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
  context: BuildContext,
): void {
  for (const algorithm of algorithms) {
    if (algorithm.startsWith('HS')) {
      if (secrets.length === 0)
        context.problems.push(
          `auth.jwt.algorithms: ${algorithm} needs a secret (JWT_SECRET or auth.jwt.secret_env)`,
        );
    } else if (jwksUrl === undefined && !keys.some(({ object }) => keyFits(object, algorithm))) {
      context.problems.push(
        `auth.jwt.algorithms: ${algorithm} needs a fitting public key (JWT_PUBLIC_KEY_FILE or auth.jwt.public_keys) or a JWKS URL`,
      );
    }
  }
  if (secrets.length > 0 && !algorithms.some((algorithm) => algorithm.startsWith('HS')))
    context.warnings.push(
      'JWT secrets are configured but no HS algorithm is allowed: they are unused',
    );
  const short = secrets.filter((secret) => Buffer.byteLength(secret) < MIN_SECRET_BYTES).length;
  // The verifier (src/auth) refuses them too; saying so here lists it with everything else.
  if (short > 0)
    context.problems.push(`${short} JWT secret(s) shorter than ${MIN_SECRET_BYTES} bytes`);
}

export function buildJwt(jwt: JwtFile, context: BuildContext): JwtConfig {
  const { problems, warnings, production } = context;
  // A secret source that failed is already reported; "missing" problems on top would be noise.
  const { secrets, failed: secretsFailed } = loadSecrets(jwt, context);
  const keys = loadPublicKeys(jwt.public_keys, context);
  const jwksUrl = jwt.jwks_url;
  if (production && jwksUrl !== undefined && !jwksUrl.startsWith('https:'))
    problems.push('JWKS_URL / auth.jwt.jwks_url: must be an https URL in production');
  const hasKey = secrets.length > 0 || keys.length > 0 || jwksUrl !== undefined;
  const dev = !production && !hasKey;
  let issuer = toList(jwt.issuer);
  let audience = toList(jwt.audience);
  let algorithms =
    jwt.algorithms === undefined ? undefined : parseAlgorithms(jwt.algorithms, context);

  if (production) {
    if (!hasKey && !secretsFailed)
      problems.push(
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
      problems.push(missingSetting('JWT issuer', ['JWT_ISSUER'], ['auth.jwt.issuer']));
    if (audience === undefined)
      problems.push(missingSetting('JWT audience', ['JWT_AUDIENCE'], ['auth.jwt.audience']));
    if (algorithms === undefined)
      problems.push(missingSetting('JWT algorithms', ['JWT_ALGORITHMS'], ['auth.jwt.algorithms']));
  } else if (dev) {
    if (algorithms !== undefined && !algorithms.includes('HS256'))
      warnings.push(
        'no JWT key configured: the generated dev secret uses HS256, added to the allowed algorithms',
      );
    algorithms = [...new Set<JwtAlgorithm>([...(algorithms ?? []), 'HS256'])];
  } else if (algorithms === undefined) {
    algorithms = [
      ...new Set<JwtAlgorithm>([
        ...(secrets.length > 0 ? (['HS256'] as const) : []),
        ...keys.flatMap(({ object }) => defaultAlgorithmFor(object) ?? []),
        ...(jwksUrl !== undefined ? (['RS256', 'ES256'] as const) : []),
      ]),
    ];
    warnings.push(
      `JWT_ALGORITHMS / auth.jwt.algorithms not set: allowing ${algorithms.join(', ')}`,
    );
  }
  if (!production) {
    if (issuer === undefined) {
      issuer = [DEV_ISSUER];
      if (!dev)
        warnings.push(`JWT_ISSUER / auth.jwt.issuer not set: requiring iss "${DEV_ISSUER}"`);
    }
    if (audience === undefined) {
      audience = [DEV_AUDIENCE];
      if (!dev)
        warnings.push(`JWT_AUDIENCE / auth.jwt.audience not set: requiring aud "${DEV_AUDIENCE}"`);
    }
  }
  const allowed = algorithms ?? [];
  if (!dev && !secretsFailed) checkKeysFit(allowed, secrets, keys, jwksUrl, context);
  return {
    algorithms: allowed,
    issuer: issuer ?? [],
    audience: audience ?? [],
    secrets,
    publicKeys: keys.map(({ key }) => key),
    ...optional('jwksUrl', jwksUrl),
    jwksRefreshIntervalMs: jwt.jwks_refresh_interval_ms,
    principalClaim: jwt.principal_claim,
    scopeClaim: jwt.scope_claim,
    clockToleranceS: jwt.clock_tolerance_s,
    ...optional('maxTokenAgeS', jwt.max_token_age_s),
    dev,
  };
}

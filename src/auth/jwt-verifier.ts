import { InvalidOptionError } from '../errors/coded-error.ts';
import jwt from 'jsonwebtoken';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { isJwsAlgorithm, isSymmetric, toAllowList, type JwsAlgorithm } from './algorithms.ts';
import { invalidTokenError, type AuthFailureReason } from './auth-errors.ts';
import { DEFAULT_MAX_TOKEN_BYTES, extractBearerToken } from './bearer.ts';
import { createJwksKeySource } from './jwks.ts';
import { toPrincipal, type Principal } from './principal.ts';
import { buildStaticKeys, type VerificationKey } from './static-keys.ts';

export interface JwtVerifierOptions {
  /** Allow-list, e.g. `['HS256']` or `['RS256', 'ES256']`. `none` is refused in any casing. */
  readonly algorithms: readonly string[];
  /** The token's `iss` must be one of these. */
  readonly issuer: readonly string[];
  /** The token's `aud` must name at least one of these. */
  readonly audience: readonly string[];
  /** HS secrets; any of them may match (rotation). At least 32 bytes each. */
  readonly secrets?: readonly string[] | undefined;
  /** HS secrets with a `kid`: a token with that kid is checked with that secret only. */
  readonly hsKeys?: readonly { readonly kid: string; readonly secret: string }[] | undefined;
  /** RS/PS/ES public keys (PEM, SPKI or X.509). */
  readonly publicKeys?: readonly { readonly kid?: string | undefined; readonly pem: string }[];
  readonly jwksUrl?: string | undefined;
  /** At most one JWKS fetch per interval, whatever triggers it (default 30 s). */
  readonly jwksRefreshIntervalMs?: number | undefined;
  /** Refetch the JWKS when the cached copy is older than this (default 10 min). */
  readonly jwksMaxAgeMs?: number | undefined;
  /**
   * Verified tokens kept by their exact string (default 10,000; 0 turns it off): a caller that
   * reuses its token pays for signature verification once, not per request. An entry lives until
   * the token would expire and never longer than `verifiedCacheTtlMs` (default 5 min). Tokens
   * verified with JWKS keys are not cached.
   */
  readonly verifiedCacheSize?: number | undefined;
  readonly verifiedCacheTtlMs?: number | undefined;
  /** The whole JWKS fetch, in the background included (default 5 s). */
  readonly jwksTimeoutMs?: number | undefined;
  /**
   * How long one request waits for a JWKS fetch (default 1 s): past it the request goes on with
   * the keys already cached, while the fetch may go on to fill the cache.
   */
  readonly jwksFetchTimeoutMs?: number | undefined;
  readonly jwksDispatcher?: Dispatcher | undefined;
  /** A failed JWKS fetch keeps the previous keys; report it here. */
  readonly onJwksError?: ((error: Error) => void) | undefined;
  readonly principalClaim: string;
  readonly scopeClaim: string;
  /** 0 to 60. */
  readonly clockToleranceS: number;
  /** When set, `iat` is required and may be at most this old. */
  readonly maxTokenAgeS?: number | undefined;
  readonly maxTokenBytes?: number | undefined;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
}

export interface TokenVerifier {
  /** `authorization` = every Authorization header value that arrived (Express: req.headersDistinct.authorization). */
  authenticate(authorization: readonly string[] | undefined): Promise<Principal>;
  close(): Promise<void>;
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;

// The header is read before any key is chosen, so only what selection needs is trusted from it.
// `jku`, `x5u`, `jwk` and `x5c` are never read: keys come from configuration only.
const Header = z.looseObject({ alg: z.string(), kid: z.string().optional() });

const Claims = z.looseObject({
  iss: z.string(),
  aud: z.union([z.string(), z.array(z.string()).min(1)]),
  exp: z.number(),
  nbf: z.number().optional(),
  iat: z.number().optional(),
});

function decodeSegment(segment: string): unknown {
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
}

interface DecodedHeader {
  readonly algorithm: JwsAlgorithm;
  readonly kid: string | undefined;
}

function decodeHeader(token: string, allowed: ReadonlySet<JwsAlgorithm>): DecodedHeader {
  const segments = token.split('.');
  if (segments.length !== 3 || !segments.every((segment) => SEGMENT.test(segment))) {
    throw invalidTokenError('malformed', 'not a JWS compact serialization');
  }
  let raw: unknown;
  try {
    raw = decodeSegment(segments[0] ?? '');
  } catch (error) {
    throw invalidTokenError('malformed', error);
  }
  const header = Header.safeParse(raw);
  if (!header.success) throw invalidTokenError('malformed', 'header is not an object with alg');
  // RFC 7515 §4.1.11: a recipient that does not understand a listed extension must reject the
  // token, and this one understands none.
  if (Object.hasOwn(header.data, 'crit')) throw invalidTokenError('crit_header');
  const { alg, kid } = header.data;
  if (!isJwsAlgorithm(alg) || !allowed.has(alg)) throw invalidTokenError('algorithm_not_allowed');
  return { algorithm: alg, kid };
}

/** jsonwebtoken's refusal as a reason (its classes, then its stable messages). */
function reasonOf(error: unknown): AuthFailureReason {
  if (error instanceof jwt.TokenExpiredError)
    return error.message === 'maxAge exceeded' ? 'too_old' : 'expired';
  if (error instanceof jwt.NotBeforeError) return 'not_yet_valid';
  if (!(error instanceof jwt.JsonWebTokenError)) return 'malformed';
  if (error.message === 'invalid signature') return 'bad_signature';
  if (error.message.startsWith('jwt issuer invalid')) return 'wrong_issuer';
  if (error.message.startsWith('jwt audience invalid')) return 'wrong_audience';
  return 'malformed';
}

function isSignatureMismatch(error: unknown): boolean {
  return error instanceof jwt.JsonWebTokenError && error.message === 'invalid signature';
}

function nonEmpty(values: readonly string[], what: string): [string, ...string[]] {
  const [first, ...rest] = values;
  if (first === undefined) throw new InvalidOptionError(`JWT ${what} list is empty`);
  return [first, ...rest];
}

export function createJwtVerifier(options: JwtVerifierOptions): TokenVerifier {
  const allowed = toAllowList(options.algorithms);
  const issuer = nonEmpty(options.issuer, 'issuer');
  const audience = nonEmpty(options.audience, 'audience');
  const { clockToleranceS, maxTokenAgeS } = options;
  if (!(clockToleranceS >= 0 && clockToleranceS <= 60)) {
    throw new InvalidOptionError('JWT clock tolerance must be between 0 and 60 s');
  }
  if (maxTokenAgeS !== undefined && !(maxTokenAgeS > 0)) {
    throw new InvalidOptionError('JWT max token age must be positive');
  }
  const maxTokenBytes = options.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES;
  const staticKeys = buildStaticKeys(options);
  const jwks =
    options.jwksUrl === undefined
      ? undefined
      : createJwksKeySource({
          url: options.jwksUrl,
          dispatcher: options.jwksDispatcher,
          now: options.now,
          refreshIntervalMs: options.jwksRefreshIntervalMs ?? 30_000,
          maxAgeMs: options.jwksMaxAgeMs ?? 10 * 60_000,
          timeoutMs: options.jwksTimeoutMs ?? 5_000,
          waitMs: options.jwksFetchTimeoutMs ?? 1_000,
          onError: options.onJwksError,
        });
  if (staticKeys.size === 0 && jwks === undefined) {
    throw new InvalidOptionError(
      'no JWT verification keys configured (secrets, public keys or a JWKS URL)',
    );
  }
  // jsonwebtoken wants a mutable array per call; one per algorithm, built once.
  const algorithmLists = new Map<JwsAlgorithm, JwsAlgorithm[]>(
    [...allowed].map((algorithm) => [algorithm, [algorithm]]),
  );

  const keysFor = async (header: DecodedHeader): Promise<readonly VerificationKey[]> => {
    const configured = staticKeys.select(header.kid, header.algorithm);
    // JWKS holds public keys only, so an HS token never causes a fetch; neither does a kid that
    // names a configured key.
    if (jwks === undefined || isSymmetric(header.algorithm)) return configured;
    if (header.kid !== undefined && configured.length > 0) return configured;
    const published = await jwks.keysFor(header.kid, header.algorithm);
    return configured.length === 0 ? published : [...configured, ...published];
  };

  const verifySignatureAndTimes = (
    token: string,
    header: DecodedHeader,
    keys: readonly VerificationKey[],
    nowS: number,
  ): unknown => {
    const verifyOptions = {
      algorithms: algorithmLists.get(header.algorithm) ?? [],
      issuer,
      audience,
      clockTolerance: clockToleranceS,
      clockTimestamp: nowS,
      ...(maxTokenAgeS === undefined ? {} : { maxAge: maxTokenAgeS }),
    };
    let failure: unknown;
    for (const { key } of keys) {
      try {
        return jwt.verify(token, key, verifyOptions);
      } catch (error) {
        // For the logs, keep the first reason that says more than "not this key".
        if (failure === undefined || isSignatureMismatch(failure)) failure = error;
      }
    }
    throw failure === undefined
      ? invalidTokenError('no_key')
      : invalidTokenError(reasonOf(failure), failure);
  };

  const cacheSize = options.verifiedCacheSize ?? 10_000;
  const cacheTtlMs = options.verifiedCacheTtlMs ?? 5 * 60_000;
  const verified = new Map<string, { readonly principal: Principal; readonly untilMs: number }>();

  const remember = (
    token: string,
    principal: Principal,
    exp: number,
    iat: number | undefined,
  ): void => {
    if (cacheSize === 0) return;
    // jsonwebtoken refuses from exp (or iat + max age) plus the tolerance on: stop before that.
    const ageLimitS =
      maxTokenAgeS === undefined || iat === undefined ? Infinity : iat + maxTokenAgeS;
    const untilMs = Math.min(
      (Math.min(exp, ageLimitS) + clockToleranceS) * 1000,
      options.now() + cacheTtlMs,
    );
    if (verified.size >= cacheSize) {
      const oldest = verified.keys().next();
      if (oldest.done !== true) verified.delete(oldest.value);
    }
    verified.set(token, { principal, untilMs });
  };

  return {
    authenticate: async (authorization) => {
      const token = extractBearerToken(authorization, maxTokenBytes);
      const cached = verified.get(token);
      if (cached !== undefined) {
        if (options.now() < cached.untilMs) return cached.principal;
        verified.delete(token);
      }
      const header = decodeHeader(token, allowed);
      const keys = await keysFor(header);
      const nowS = Math.floor(options.now() / 1000);
      const payload = verifySignatureAndTimes(token, header, keys, nowS);
      // jsonwebtoken checks exp, nbf, iss and aud when present; presence and types are checked here
      // (it lets a token without exp live forever, and passes string and array payloads through).
      const claims = Claims.safeParse(payload);
      if (!claims.success) throw invalidTokenError('claims', 'required claims missing or mistyped');
      if (maxTokenAgeS !== undefined) {
        const { iat } = claims.data;
        // A future iat would stretch the maximum age.
        if (iat === undefined || iat > nowS + clockToleranceS) {
          throw invalidTokenError('too_old', 'iat missing or in the future');
        }
      }
      const principal = toPrincipal(claims.data, options.principalClaim, options.scopeClaim);
      // Only tokens verified with configured keys: a JWKS key can be withdrawn at any refetch, and a
      // cached token must stop working then as it would without the cache.
      if (jwks === undefined || isSymmetric(header.algorithm)) {
        remember(token, principal, claims.data.exp, claims.data.iat);
      }
      return principal;
    },
    close: async () => {
      await jwks?.close();
    },
  };
}

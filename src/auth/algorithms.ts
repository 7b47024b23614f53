import { InvalidOptionError } from '../errors/coded-error.ts';
import type { KeyObject } from 'node:crypto';

// The JWS algorithms the gateway can verify, and which keys each one may be checked with. Matching the
// key type to the algorithm family is what stops algorithm confusion (an HS256 token "signed" with a
// public key PEM used as the HMAC secret).

export const JWS_ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
] as const;

export type JwsAlgorithm = (typeof JWS_ALGORITHMS)[number];

const SUPPORTED: ReadonlySet<string> = new Set(JWS_ALGORITHMS);

const EC_CURVES: Readonly<Record<string, string>> = {
  ES256: 'prime256v1',
  ES384: 'secp384r1',
  ES512: 'secp521r1',
};

/** NIST SP 800-131A: RSA keys below 2048 bits are not acceptable for signatures. */
const MIN_RSA_BITS = 2048;

export function isJwsAlgorithm(value: string): value is JwsAlgorithm {
  return SUPPORTED.has(value);
}

export function isSymmetric(algorithm: JwsAlgorithm): boolean {
  return algorithm.startsWith('HS');
}

/** The configured allow-list, checked once at startup. `none` is refused in any casing. */
export function toAllowList(configured: readonly string[]): ReadonlySet<JwsAlgorithm> {
  const allowed = new Set<JwsAlgorithm>();
  for (const name of configured) {
    if (name.trim().toLowerCase() === 'none') {
      throw new InvalidOptionError('JWT algorithm "none" is never accepted');
    }
    if (!isJwsAlgorithm(name)) {
      throw new InvalidOptionError(
        `unsupported JWT algorithm "${name}" (use one of ${JWS_ALGORITHMS.join(', ')})`,
      );
    }
    allowed.add(name);
  }
  if (allowed.size === 0) throw new InvalidOptionError('the JWT algorithm allow-list is empty');
  return allowed;
}

export function keyFitsAlgorithm(key: KeyObject, algorithm: JwsAlgorithm): boolean {
  if (isSymmetric(algorithm)) return key.type === 'secret';
  if (key.type !== 'public') return false;
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails;
  if (algorithm.startsWith('ES')) {
    return type === 'ec' && details?.namedCurve === EC_CURVES[algorithm];
  }
  const rsaOk = (details?.modulusLength ?? 0) >= MIN_RSA_BITS;
  if (algorithm.startsWith('PS')) return rsaOk && (type === 'rsa' || type === 'rsa-pss');
  return rsaOk && type === 'rsa';
}

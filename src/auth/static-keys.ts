import { InvalidOptionError } from '../errors/coded-error.ts';
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { JWS_ALGORITHMS, keyFitsAlgorithm, type JwsAlgorithm } from './algorithms.ts';

// Keys are turned into KeyObjects once, at startup: parsing a PEM per request would be the most
// expensive part of verifying an HS or EC token.

export interface VerificationKey {
  readonly kid: string | undefined;
  readonly key: KeyObject;
  /** A JWK's `alg`: when present the key may only verify that algorithm. */
  readonly algorithm: string | undefined;
}

export interface KeyIndex {
  readonly size: number;
  /**
   * The keys a token may be checked with: with a `kid`, only keys with exactly that id (never a
   * fallback to others); without one, every key. Either way only keys that fit the algorithm.
   * Precomputed, so the hot path allocates nothing.
   */
  select(kid: string | undefined, algorithm: JwsAlgorithm): readonly VerificationKey[];
}

/** RFC 7518 §3.2 asks for a key at least as long as the hash; 32 bytes is the floor for HS256. */
export const MIN_SECRET_BYTES = 32;

export function toSecretKey(secret: string): KeyObject {
  const bytes = Buffer.from(secret, 'utf8');
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new InvalidOptionError(`a JWT HMAC secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  return createSecretKey(bytes);
}

const NO_KEYS: readonly VerificationKey[] = [];

type ByAlgorithm = ReadonlyMap<JwsAlgorithm, readonly VerificationKey[]>;

function byAlgorithm(keys: readonly VerificationKey[]): ByAlgorithm {
  const map = new Map<JwsAlgorithm, readonly VerificationKey[]>();
  for (const algorithm of JWS_ALGORITHMS) {
    const fitting = keys.filter(
      (entry) =>
        (entry.algorithm === undefined || entry.algorithm === algorithm) &&
        keyFitsAlgorithm(entry.key, algorithm),
    );
    if (fitting.length > 0) map.set(algorithm, fitting);
  }
  return map;
}

export function buildKeyIndex(keys: readonly VerificationKey[]): KeyIndex {
  const groups = new Map<string, VerificationKey[]>();
  for (const key of keys) {
    if (key.kid === undefined) continue;
    const list = groups.get(key.kid);
    if (list === undefined) groups.set(key.kid, [key]);
    else list.push(key);
  }
  const all = byAlgorithm(keys);
  const byKid = new Map<string, ByAlgorithm>();
  for (const [kid, list] of groups) byKid.set(kid, byAlgorithm(list));
  return {
    size: keys.length,
    select: (kid, algorithm) =>
      (kid === undefined ? all : byKid.get(kid))?.get(algorithm) ?? NO_KEYS,
  };
}

export function buildStaticKeys(options: {
  readonly secrets?: readonly string[] | undefined;
  readonly hsKeys?: readonly { readonly kid: string; readonly secret: string }[] | undefined;
  readonly publicKeys?: readonly { readonly kid?: string | undefined; readonly pem: string }[];
}): KeyIndex {
  const keys: VerificationKey[] = [];
  for (const secret of options.secrets ?? []) {
    keys.push({ kid: undefined, key: toSecretKey(secret), algorithm: undefined });
  }
  // A token's kid selects only keys with that kid (see select), so a kid-stamped HS token needs its
  // secret named here; it never falls back to the unnamed secrets.
  for (const { kid, secret } of options.hsKeys ?? []) {
    keys.push({ kid, key: toSecretKey(secret), algorithm: undefined });
  }
  for (const { kid, pem } of options.publicKeys ?? []) {
    // createPublicKey would happily derive a public key from a private one; a private key in the
    // verifier's config is a mistake worth stopping at startup.
    if (pem.includes('PRIVATE KEY'))
      throw new InvalidOptionError('JWT public keys must not be private keys');
    keys.push({ kid, key: createPublicKey(pem), algorithm: undefined });
  }
  return buildKeyIndex(keys);
}

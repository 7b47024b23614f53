import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type DigestAlgorithm = 'sha256' | 'sha512';

/** Pieces of the signed content in order; strings are UTF-8, the body goes in as its raw bytes. */
export type SignedContent = readonly (string | Buffer)[];

export function hmacDigest(
  algorithm: DigestAlgorithm,
  key: Buffer,
  content: SignedContent,
): Buffer {
  const hmac = createHmac(algorithm, key);
  for (const part of content) hmac.update(part);
  return hmac.digest();
}

/** One digest per secret (rotation: any of them may have signed). */
export function hmacDigests(
  algorithm: DigestAlgorithm,
  keys: readonly Buffer[],
  content: SignedContent,
): Buffer[] {
  return keys.map((key) => hmacDigest(algorithm, key, content));
}

/** sha256 hex of the signed content: the delivery id of profiles whose sender names none. */
export function contentHash(content: SignedContent): string {
  const hash = createHash('sha256');
  for (const part of content) hash.update(part);
  return hash.digest('hex');
}

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The bytes a signature text stands for, or undefined when it is not strictly encoded. Buffer.from
 * alone would stop at the first bad hex digit or skip junk in Base64 and compare something else.
 * Base64 must be canonical (padded, unused bits zero) so that one byte string has one text.
 */
export function decodeSignature(text: string, encoding: 'hex' | 'base64'): Buffer | undefined {
  if (text.length === 0) return undefined;
  if (encoding === 'hex') return HEX.test(text) ? Buffer.from(text, 'hex') : undefined;
  if (!BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/**
 * Whether any candidate equals any expected digest, in constant time per pair. A candidate of
 * another length cannot match and is skipped before timingSafeEqual (which throws on a length
 * mismatch); a digest's length is public, so skipping reveals nothing about the secret.
 */
export function anyDigestMatches(
  expected: readonly Buffer[],
  candidates: readonly Buffer[],
): boolean {
  let matched = false;
  for (const candidate of candidates) {
    for (const digest of expected) {
      if (candidate.length !== digest.length) continue;
      // Evaluated first so that every pair is compared, matched or not.
      matched = timingSafeEqual(candidate, digest) || matched;
    }
  }
  return matched;
}

import { createHash } from 'node:crypto';

/**
 * A caller-controlled name made safe inside a Redis key: base64url has no `{`, `}` or `:`, so a
 * principal like `a}:{b` can neither break the hash tag nor collide with another key's layout.
 */
export function toKeyPart(name: string): string {
  return Buffer.from(name, 'utf8').toString('base64url');
}

/** Fixed-length digest for values that may be long (Idempotency-Key is up to 255 characters). */
export function toKeyDigest(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url');
}

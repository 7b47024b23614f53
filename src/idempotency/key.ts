import { toKeyDigest, toKeyPart } from '../redis/key-part.ts';

export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/**
 * 1 to 255 printable ASCII characters, space included (0x20–0x7E). The draft
 * (draft-ietf-httpapi-idempotency-key-header) makes the key an sf-string, whose characters are
 * exactly these; anything else is a 400.
 */
export const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,255}$/;

export function isValidIdempotencyKey(key: string): boolean {
  return IDEMPOTENCY_KEY.test(key);
}

export const DEFAULT_IDEMPOTENCY_KEY_PREFIX = 'gw:idem';

/**
 * Scoped to principal and stream: two callers (or one caller on two streams) never share a key.
 * The principal is the hash tag, so a caller's keys stay together in Redis Cluster.
 */
export function toIdempotencyRedisKey(
  prefix: string,
  principal: string,
  stream: string,
  key: string,
): string {
  return `${prefix}:{${toKeyPart(principal)}}:${toKeyPart(stream)}:${toKeyDigest(key)}`;
}

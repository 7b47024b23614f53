import type { RedisClient } from '../redis/connect.ts';
import { toKeyDigest, toKeyPart } from '../redis/key-part.ts';

/**
 * Remembers delivery ids so a repeat is acknowledged without being written again. `release` undoes
 * a claim when accepting the delivery failed afterwards, so the sender's retry is not mistaken for
 * a duplicate and silently dropped.
 */
export interface ReplayGuard {
  claim(source: string, deliveryId: string): Promise<'new' | 'duplicate'>;
  release(source: string, deliveryId: string): Promise<void>;
}

/** Redis did not answer; the route decides per source (`replayOnRedisDown`): forward or 503. */
export class ReplayGuardUnavailable extends Error {
  constructor(cause: unknown) {
    super('the replay guard could not reach Redis', { cause });
    this.name = 'ReplayGuardUnavailable';
  }
}

export const DEFAULT_REPLAY_KEY_PREFIX = 'gw:replay:';

/**
 * Longer than the whole window in which one signed timestamp passes the tolerance check, so a replay
 * is caught either by the guard or by the timestamp (fixture case sw-s-02): a delivery received at
 * ts - tolerance still passes at ts + tolerance + 0.999 s (the check works in whole seconds), hence
 * 2 × tolerance + 1. At least 10 min, for profiles without a signed timestamp (GitHub).
 */
export function replayTtlS(toleranceS: number): number {
  return Math.max(2 * toleranceS + 1, 600);
}

/** The id is hashed (ids are up to 256 characters); the source is the hash tag (one slot each). */
export function toReplayKey(prefix: string, source: string, deliveryId: string): string {
  return `${prefix}{${toKeyPart(source)}}:${toKeyDigest(deliveryId)}`;
}

export interface RedisReplayGuardOptions {
  readonly redis: RedisClient;
  readonly ttlS: number;
  readonly keyPrefix?: string;
}

export function createRedisReplayGuard(options: RedisReplayGuardOptions): ReplayGuard {
  const { redis, ttlS } = options;
  const prefix = options.keyPrefix ?? DEFAULT_REPLAY_KEY_PREFIX;
  return {
    async claim(source, deliveryId) {
      let reply: string | null;
      try {
        reply = await redis.set(toReplayKey(prefix, source, deliveryId), '1', 'EX', ttlS, 'NX');
      } catch (error) {
        throw new ReplayGuardUnavailable(error);
      }
      return reply === 'OK' ? 'new' : 'duplicate';
    },
    async release(source, deliveryId) {
      try {
        await redis.del(toReplayKey(prefix, source, deliveryId));
      } catch (error) {
        throw new ReplayGuardUnavailable(error);
      }
    },
  };
}

export interface MemoryReplayGuardOptions {
  readonly ttlS: number;
  /** Milliseconds, injected (Date.now in production). */
  readonly now: () => number;
}

/** Dev mode without Redis: one process's memory. */
export function createMemoryReplayGuard(options: MemoryReplayGuardOptions): ReplayGuard {
  const ttlMs = options.ttlS * 1000;
  // key → expiry (ms). With one TTL for all, insertion order is expiry order, so expired entries
  // are always at the front and a sweep stops at the first live one.
  const seen = new Map<string, number>();
  const sweep = (now: number): void => {
    for (const [key, expiresAt] of seen) {
      if (expiresAt > now) return;
      seen.delete(key);
    }
  };
  const keyOf = (source: string, deliveryId: string): string =>
    JSON.stringify([source, deliveryId]);
  return {
    claim(source, deliveryId) {
      const now = options.now();
      sweep(now);
      const key = keyOf(source, deliveryId);
      const expiresAt = seen.get(key);
      if (expiresAt !== undefined && expiresAt > now) return Promise.resolve('duplicate');
      // Re-inserted at the end, which keeps the map in expiry order.
      seen.delete(key);
      seen.set(key, now + ttlMs);
      return Promise.resolve('new');
    },
    release(source, deliveryId) {
      seen.delete(keyOf(source, deliveryId));
      return Promise.resolve();
    },
  };
}

import { CodedError } from '../errors/coded-error.ts';
import type { RedisClient } from '../redis/connect.ts';
import { toKeyDigest, toKeyPart } from '../redis/key-part.ts';
import { defineScript } from '../redis/script.ts';

/**
 * Remembers delivery ids so a repeat is acknowledged without being written again. A claim holds the
 * id as *pending* while its delivery is being accepted: a redelivery arriving meanwhile is told
 * `in-progress` (the route answers 409, the sender tries again later), never `duplicate`, because
 * the first attempt may still fail. `accept` makes later claims duplicates for the full TTL;
 * `release` undoes the claim when nothing was written, so the sender's retry goes through. A
 * pending claim whose outcome never became known expires after `pendingTtlS`, and a retry then
 * writes again (a possible duplicate, never a loss).
 */
export interface ReplayGuard {
  claim(source: string, deliveryId: string): Promise<'new' | 'in-progress' | 'duplicate'>;
  accept(source: string, deliveryId: string): Promise<void>;
  release(source: string, deliveryId: string): Promise<void>;
}
/** Redis did not answer; the route decides per source (`replayOnRedisDown`): forward or 503. */
export class ReplayGuardUnavailable extends CodedError<'ERR_REPLAY_GUARD_UNAVAILABLE'> {
  constructor(cause: unknown) {
    super('ERR_REPLAY_GUARD_UNAVAILABLE', 'the replay guard could not reach Redis', { cause });
  }
}

export const DEFAULT_REPLAY_KEY_PREFIX = 'gw:replay:';

/** The id is hashed (ids are up to 256 characters); the source is the hash tag (one slot each). */
export function toReplayKey(prefix: string, source: string, deliveryId: string): string {
  return `${prefix}{${toKeyPart(source)}}:${toKeyDigest(deliveryId)}`;
}

export interface RedisReplayGuardOptions {
  readonly redis: RedisClient;
  /** How long an accepted delivery id is remembered (replayTtlS). */
  readonly ttlS: number;
  /** How long a claim stays pending without accept or release (the longest accept can take). */
  readonly pendingTtlS: number;
  readonly keyPrefix?: string;
}

/** Claims held while a delivery is being accepted store this; accepted ones anything else. */
const PENDING = 'pending';

// Any other value (`done`, or `1` from a gateway before pending claims existed) is an accepted id.
const CLAIM = {
  name: 'gwReplayClaimV1',
  lua: `
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], '${PENDING}', 'EX', ARGV[1])
  return 'new'
end
if v == '${PENDING}' then return 'in-progress' end
return 'duplicate'
`,
};

export function createRedisReplayGuard(options: RedisReplayGuardOptions): ReplayGuard {
  const { redis, ttlS, pendingTtlS } = options;
  const prefix = options.keyPrefix ?? DEFAULT_REPLAY_KEY_PREFIX;
  const claim = defineScript(redis, CLAIM);
  return {
    async claim(source, deliveryId) {
      let reply: unknown;
      try {
        reply = await claim([toReplayKey(prefix, source, deliveryId)], [pendingTtlS]);
      } catch (error) {
        throw new ReplayGuardUnavailable(error);
      }
      if (reply === 'new' || reply === 'in-progress' || reply === 'duplicate') return reply;
      throw new ReplayGuardUnavailable(
        new CodedError('ERR_REDIS_BAD_REPLY', `unexpected claim reply ${String(reply)}`),
      );
    },
    async accept(source, deliveryId) {
      try {
        await redis.set(toReplayKey(prefix, source, deliveryId), 'done', 'EX', ttlS);
      } catch (error) {
        throw new ReplayGuardUnavailable(error);
      }
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
  readonly pendingTtlS: number;
  /** Milliseconds, injected (Date.now in production). */
  readonly now: () => number;
}

/** Dev mode without Redis: one process's memory. */
export function createMemoryReplayGuard(options: MemoryReplayGuardOptions): ReplayGuard {
  const ttlMs = options.ttlS * 1000;
  const pendingTtlMs = options.pendingTtlS * 1000;
  // key → state and expiry (ms). Accepted ids all live ttlMs and are (re)inserted at the end, so
  // among them insertion order is expiry order and a sweep stops at the first live one; a pending
  // claim (shorter) left behind a live entry is dropped when it is next looked at.
  const seen = new Map<string, { readonly pending: boolean; readonly expiresAt: number }>();
  const sweep = (now: number): void => {
    for (const [key, entry] of seen) {
      if (entry.expiresAt > now) return;
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
      const entry = seen.get(key);
      if (entry !== undefined && entry.expiresAt > now) {
        return Promise.resolve(entry.pending ? 'in-progress' : 'duplicate');
      }
      seen.delete(key);
      seen.set(key, { pending: true, expiresAt: now + pendingTtlMs });
      return Promise.resolve('new');
    },
    accept(source, deliveryId) {
      const key = keyOf(source, deliveryId);
      // Re-inserted at the end, which keeps accepted ids in expiry order.
      seen.delete(key);
      seen.set(key, { pending: false, expiresAt: options.now() + ttlMs });
      return Promise.resolve();
    },
    release(source, deliveryId) {
      seen.delete(keyOf(source, deliveryId));
      return Promise.resolve();
    },
  };
}

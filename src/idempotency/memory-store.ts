import { randomUUID } from 'node:crypto';
import { DEFAULT_IDEMPOTENCY_KEY_PREFIX, toIdempotencyRedisKey } from './key.ts';
import { IN_PROGRESS_RETRY_AFTER_S } from './types.ts';
import type { IdempotencyStore, StoredAnswer } from './types.ts';

export interface MemoryIdempotencyStoreOptions {
  readonly ttlMs: number;
  readonly now: () => number;
  /** Bound on remembered keys (default 10 000); past it, expired entries go first, then the oldest. */
  readonly maxKeys?: number;
  readonly randomToken?: () => string;
}

type Entry =
  | { state: 'in-progress'; fingerprint: string; owner: string; expiresAt: number }
  | { state: 'completed'; fingerprint: string; answer: StoredAnswer; expiresAt: number };

/**
 * The Redis store's semantics in this process, for dev mode without Redis. One instance only:
 * several instances would not see each other's keys, which is why production requires Redis.
 */
export function createMemoryIdempotencyStore(
  options: MemoryIdempotencyStoreOptions,
): IdempotencyStore {
  const maxKeys = options.maxKeys ?? 10_000;
  const randomToken = options.randomToken ?? randomUUID;
  const entries = new Map<string, Entry>();

  const live = (key: string): Entry | undefined => {
    const entry = entries.get(key);
    if (entry !== undefined && entry.expiresAt <= options.now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };

  const store = (key: string, entry: Entry): void => {
    entries.delete(key);
    entries.set(key, entry);
    if (entries.size <= maxKeys) return;
    const now = options.now();
    for (const [k, e] of entries) if (e.expiresAt <= now) entries.delete(k);
    for (const k of entries.keys()) {
      if (entries.size <= maxKeys) break;
      entries.delete(k);
    }
  };

  return {
    begin(input) {
      const key = toIdempotencyRedisKey(
        DEFAULT_IDEMPOTENCY_KEY_PREFIX,
        input.principal,
        input.stream,
        input.key,
      );
      const entry = live(key);
      if (entry === undefined) {
        const owner = randomToken();
        store(key, {
          state: 'in-progress',
          fingerprint: input.fingerprint,
          owner,
          expiresAt: options.now() + Math.max(1, input.lockTtlMs),
        });
        return Promise.resolve({
          kind: 'started',
          handle: { key, owner, fingerprint: input.fingerprint },
        });
      }
      if (entry.fingerprint !== input.fingerprint) return Promise.resolve({ kind: 'mismatch' });
      if (entry.state === 'completed') {
        return Promise.resolve({ kind: 'replay', answer: entry.answer });
      }
      return Promise.resolve({ kind: 'in-progress', retryAfterS: IN_PROGRESS_RETRY_AFTER_S });
    },
    complete(handle, answer) {
      const entry = live(handle.key);
      // Same rule as the Redis store: never overwrite another holder; an abandoned key is fine.
      if (entry === undefined || (entry.state === 'in-progress' && entry.owner === handle.owner)) {
        store(handle.key, {
          state: 'completed',
          fingerprint: handle.fingerprint,
          answer: structuredClone(answer),
          expiresAt: options.now() + options.ttlMs,
        });
      }
      return Promise.resolve();
    },
    release(handle) {
      const entry = live(handle.key);
      if (entry?.state === 'in-progress' && entry.owner === handle.owner)
        entries.delete(handle.key);
      return Promise.resolve();
    },
  };
}

import type { RedisClient } from '../redis/connect.ts';
import { FORWARDER_GROUP, type SpoolKeys } from './keys.ts';

export interface SpoolStats {
  readonly disStream: string;
  /** Entries not yet written or dead-lettered (sent ones are deleted). */
  readonly depth: number;
  /** Entries delivered to a forwarder and not yet acknowledged. */
  readonly pending: number;
  /** Age of the oldest unsent entry (0 when empty), from its id's timestamp. */
  readonly oldestAgeMs: number;
  readonly deadLetters: number;
}

function isNoGroup(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOGROUP');
}

async function pendingCount(redis: RedisClient, key: string): Promise<number> {
  try {
    const summary: unknown = await redis.xpending(key, FORWARDER_GROUP);
    const count: unknown = Array.isArray(summary) ? summary[0] : 0;
    return typeof count === 'number' ? count : Number(count);
  } catch (error) {
    // No forwarder has created the group yet: nothing is pending.
    if (isNoGroup(error)) return 0;
    throw error;
  }
}

/** Entry ids start with the server's time in ms at XADD. */
function ageOf(id: string | undefined, now: number): number {
  if (id === undefined) return 0;
  const ms = Number(id.slice(0, id.indexOf('-')));
  return Number.isFinite(ms) ? Math.max(0, now - ms) : 0;
}

export async function readSpoolStats(
  redis: RedisClient,
  keys: SpoolKeys,
  disStreams: readonly string[],
  now: () => number,
): Promise<SpoolStats[]> {
  return Promise.all(
    disStreams.map(async (disStream): Promise<SpoolStats> => {
      const key = keys.stream(disStream);
      const [depth, pending, first, deadLetters] = await Promise.all([
        redis.xlen(key),
        pendingCount(redis, key),
        redis.xrange(key, '-', '+', 'COUNT', 1),
        redis.xlen(keys.deadLetter(disStream)),
      ]);
      return {
        disStream,
        depth,
        pending,
        oldestAgeMs: ageOf(first[0]?.[0], now()),
        deadLetters,
      };
    }),
  );
}

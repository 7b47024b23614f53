import { after, before } from 'node:test';
import { closeRedis, type RedisClient } from '../../src/redis/connect.ts';
import type { Cleanup } from './cleanup.ts';
import {
  connectTestRedis,
  startRedis,
  type RedisServer,
  type StartRedisOptions,
  type TestClientOptions,
} from './redis-server.ts';

// A real redis-server and a connected gateway-style client, for one test (startTestRedis) or for
// a describe block (useTestRedis). Tests that share one still own their keys: each builds its
// store, limiter or spool over a key prefix of its own (`t-${randomUUID()}`).

export type TestRedisOptions = StartRedisOptions & TestClientOptions;

export interface TestRedis {
  readonly server: RedisServer;
  readonly redis: RedisClient;
}

async function openTestRedis(options: TestRedisOptions): Promise<TestRedis> {
  const server = await startRedis(options);
  try {
    return { server, redis: await connectTestRedis(server, options) };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

async function closeTestRedis({ server, redis }: TestRedis): Promise<void> {
  await closeRedis(redis);
  await server.stop();
}

/** A Redis of the test's own (one it may stop and start); closed by the test's cleanup. */
export async function startTestRedis(
  t: Cleanup,
  options: TestRedisOptions = {},
): Promise<TestRedis> {
  const opened = await openTestRedis(options);
  t.after(() => closeTestRedis(opened));
  return opened;
}

/**
 * One Redis for the tests of a describe block: started in its before hook, closed in its after
 * hook. Call it in the describe body; read `server` and `redis` inside tests and hooks.
 */
export function useTestRedis(options: TestRedisOptions = {}): TestRedis {
  let opened: TestRedis | undefined;
  before(async () => {
    opened = await openTestRedis(options);
  });
  after(async () => {
    if (opened !== undefined) await closeTestRedis(opened);
  });
  const started = (): TestRedis => {
    if (opened === undefined) throw new Error('useTestRedis: read before its before hook ran');
    return opened;
  };
  return {
    get server() {
      return started().server;
    },
    get redis() {
      return started().redis;
    },
  };
}

import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../../src/redis/connect.ts';
import { createSpoolKeys, type SpoolKeys } from '../../src/spool/keys.ts';
import { createSpool, type Spool, type SpoolOptions } from '../../src/spool/spool.ts';
import { testReplicaAcks } from './redis-server.ts';

export interface SpoolUnderTest {
  readonly spool: Spool;
  /** The spool's own key prefix (unless the test chose one), for a forwarder over the same keys. */
  readonly keyPrefix: string;
  readonly keys: SpoolKeys;
}

/**
 * A spool on `redis` with a key prefix of its own, acknowledging as a gateway would (`auto`: no
 * confirmation on a Redis without replicas); room and receipt TTL far beyond what a test needs
 * unless `overrides` says otherwise.
 */
export function spoolUnderTest(
  redis: RedisClient,
  overrides: Partial<SpoolOptions> = {},
): SpoolUnderTest {
  const keyPrefix = overrides.keyPrefix ?? `t-${randomUUID()}:`;
  const spool = createSpool({
    redis,
    acks: testReplicaAcks(redis),
    maxEntries: 10_000,
    receiptTtlS: 600,
    now: Date.now,
    ...overrides,
    keyPrefix,
  });
  return { spool, keyPrefix, keys: createSpoolKeys(keyPrefix) };
}

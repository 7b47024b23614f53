import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSpoolConsumers } from '../../src/spool/consumers.ts';
import { FORWARDER_GROUP } from '../../src/spool/keys.ts';
import { useTestRedis } from '../helpers/redis-fixture.ts';
import { testReplicaAcks } from '../helpers/redis-server.ts';
import { spoolUnderTest } from '../helpers/spool-fixture.ts';

// Prune in small steps: a consumer holding more entries than one script call moves is emptied over
// several calls and deleted only by the last.

describe('spool consumers: prune', () => {
  const db = useTestRedis();

  it('with force, a consumer holding more entries than one call moves has them all put back as new entries, then is deleted', async () => {
    const { spool, keys, keyPrefix } = spoolUnderTest(db.redis);
    const disStream = `s-${randomUUID()}`;
    const key = keys.stream(disStream);
    await db.redis.xgroup('CREATE', key, FORWARDER_GROUP, '0', 'MKSTREAM');
    const records = [0, 1, 2, 3, 4].map((i) => ({ data: Buffer.from(`r${i}`) }));
    await spool.append({ disStream, logicalStream: 'l', owner: 'principal:t', records });
    const before = await db.redis.xrange(key, '-', '+');
    // A forwarder that read them and died.
    await db.redis.xreadgroup('GROUP', FORWARDER_GROUP, 'dead', 'COUNT', 10, 'STREAMS', key, '>');
    const consumers = createSpoolConsumers({
      redis: db.redis,
      acks: testReplicaAcks(db.redis),
      keyPrefix,
      movesPerCall: 2,
    });
    await sleep(20);

    const young = await consumers.prune(disStream, 'dead', { minIdleMs: 3_600_000, force: true });
    assert.equal(young.status, 'active');
    assert.deepEqual(await consumers.prune(disStream, 'dead', { minIdleMs: 10, force: false }), {
      status: 'holding',
      pending: 5,
    });
    assert.deepEqual(await consumers.prune(disStream, 'dead', { minIdleMs: 10, force: true }), {
      status: 'deleted',
      requeued: 5,
    });
    assert.deepEqual(await consumers.list(disStream), []);
    const after = await db.redis.xrange(key, '-', '+');
    assert.deepEqual(
      after.map(([, fields]) => fields),
      before.map(([, fields]) => fields),
    );
    assert.ok(after.every(([id], i) => id !== before[i]?.[0]));
    // New entries: the next forwarder reads them as such.
    await db.redis.xreadgroup('GROUP', FORWARDER_GROUP, 'next', 'COUNT', 10, 'STREAMS', key, '>');
    assert.deepEqual(
      (await consumers.list(disStream)).map((c) => [c.name, c.pending]),
      [['next', 5]],
    );
    assert.deepEqual(await consumers.prune(disStream, 'gone', { minIdleMs: 1, force: true }), {
      status: 'missing',
    });
  });
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createRedisIdempotencyStore } from '../../src/idempotency/redis-store.ts';
import { closeRedis, createRedis, whenReady, type RedisClient } from '../../src/redis/connect.ts';
import { createRedisReplayGuard } from '../../src/webhooks/replay-guard.ts';
import { redisLimiterUnderTest } from '../helpers/ratelimit-fixture.ts';
import { testReplicaAcks } from '../helpers/redis-server.ts';
import { startRedisCluster, type RedisClusterRig } from '../helpers/redis-topology.ts';
import { spoolUnderTest } from '../helpers/spool-fixture.ts';

// A real cluster of three masters (and their replicas): calls issued in the same tick whose keys
// live on different masters must each reach their own master. A one-node cluster cannot show this,
// since every slot is on the one node.

const CALLS = 300;

describe('Redis Cluster of three masters: every call reaches the master of its keys', () => {
  let rig: RedisClusterRig;
  let redis: RedisClient;

  before(async () => {
    rig = await startRedisCluster();
    redis = createRedis({
      connection: { mode: 'cluster', nodes: rig.seeds },
      commandTimeoutMs: 2000,
      connectTimeoutMs: 1000,
    });
    await whenReady(redis, 10_000);
  });
  after(async () => {
    await closeRedis(redis);
    await rig.stop();
  });

  it('every master has a replica, so acknowledged writes below wait for one (WAIT on the master of their keys)', async () => {
    assert.equal(await testReplicaAcks(redis).required(), 1);
  });

  it('the principals of this test live on all three masters', async () => {
    const masters = new Set<number>();
    for (let i = 0; i < 30; i += 1) masters.add((await rig.masterOf(`{p-${i}}`)).port);
    assert.equal(masters.size, 3);
  });

  it(`${CALLS} rate-limit checks in one tick for principals on different masters are all decided in Redis`, async () => {
    const { limiter } = redisLimiterUnderTest(redis);
    const results = await Promise.allSettled(
      Array.from({ length: CALLS }, (_, i) =>
        limiter.check({ principal: `p-${i}`, stream: `s-${i % 7}`, records: 1, bytes: 10 }),
      ),
    );
    const failures = results.filter((r) => r.status === 'rejected');
    assert.deepEqual(
      failures.slice(0, 3).map((r) => String(r.reason)),
      [],
      `${failures.length} of ${CALLS} failed`,
    );
    for (const r of results) if (r.status === 'fulfilled') assert.equal(r.value.source, 'redis');
  });

  it(`${CALLS} idempotency begin/complete pairs in one tick for principals on different masters all succeed`, async () => {
    const store = createRedisIdempotencyStore({
      redis,
      acks: testReplicaAcks(redis),
      ttlMs: 60_000,
      keyPrefix: `gw:idem:t-${randomUUID()}`,
    });
    // All in one tick, principals (hash tags) spread over the three masters.
    const beginAll = () =>
      Promise.all(
        Array.from({ length: CALLS }, (_, i) =>
          store.begin({
            principal: `p-${i}`,
            stream: 'clicks',
            key: `k-${i}`,
            fingerprint: 'f',
            lockTtlMs: 10_000,
          }),
        ),
      );
    const handles = (await beginAll()).map((b) => {
      if (b.kind !== 'started') assert.fail(`begin answered ${b.kind}`);
      return b.handle;
    });
    await Promise.all(
      handles.map((h) => store.complete(h, { status: 200, headers: {}, body: '{}' })),
    );
    const replays = await beginAll();
    assert.deepEqual(new Set(replays.map((r) => r.kind)), new Set(['replay']));
  });

  it('spool appends to streams on different masters in one tick all succeed, receipts included', async () => {
    const { spool } = spoolUnderTest(redis, { receiptTtlS: 60 });
    const appended = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        spool.append({
          disStream: `dis-${i % 12}`,
          logicalStream: 'clicks',
          owner: 'p',
          records: [{ data: Buffer.from(`r-${i}`), partitionKey: 'k' }],
        }),
      ),
    );
    const receipts = await Promise.all(
      appended.map((a) => spool.receipt(a.receiptId, { owner: 'p', operator: false })),
    );
    assert.equal(receipts.filter((r) => r?.status === 'pending').length, 60);
  });

  it('replay-guard claims for sources on different masters in one tick all succeed', async () => {
    const guard = createRedisReplayGuard({
      redis,
      ttlS: 60,
      pendingTtlS: 20,
      keyPrefix: `gw:replay:t-${randomUUID()}:`,
    });
    const claims = await Promise.all(
      Array.from({ length: CALLS }, (_, i) => guard.claim(`src-${i % 17}`, `d-${i}`)),
    );
    assert.deepEqual(new Set(claims), new Set(['new']));
  });
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { createRedisIdempotencyStore } from '../../src/idempotency/redis-store.ts';
import type { RateLimitPolicyConfig } from '../../src/ratelimit/policy.ts';
import { useTestRedis } from '../helpers/redis-fixture.ts';
import { GENEROUS, redisLimiterUnderTest } from '../helpers/ratelimit-fixture.ts';
import { testReplicaAcks } from '../helpers/redis-server.ts';

// A one-node cluster owns every slot but still refuses a script whose keys span two slots, so it
// proves that the principal's and the stream's keys are split into one call per slot.
describe('Redis Cluster mode', () => {
  const db = useTestRedis({ cluster: true, commandTimeoutMs: 1000 });

  const setup = (config: Partial<RateLimitPolicyConfig>) => {
    const { limiter } = redisLimiterUnderTest(db.redis, config);
    return (principal: string, records: number) =>
      limiter.check({ principal, stream: 's', records, bytes: 1 });
  };

  it('a script over keys of two slots is refused, which is why limits take one call per slot', async () => {
    await assert.rejects(
      db.redis.eval('return 1', 2, 'gw:rl:{p:a}:req', 'gw:rl:{s:b}:rec'),
      /CROSSSLOT|same slot/,
    );
  });

  it('limits are enforced across the principal slot and the stream slot', async () => {
    const check = setup({ default: { ...GENEROUS, requestsPerS: 1, burst: 3 } });
    const decisions = [];
    for (let i = 0; i < 4; i += 1) decisions.push(await check('p', 1));
    assert.deepEqual(
      decisions.map((d) => [d.source, d.allowed, d.limitedBy]),
      [
        ['redis', true, undefined],
        ['redis', true, undefined],
        ['redis', true, undefined],
        ['redis', false, 'principal-requests'],
      ],
    );
    assert.equal(decisions[2]?.headers.RateLimit, '"principal-requests";r=0;t=3');
  });

  it('when the stream slot denies, what the principal slot took is refunded', async () => {
    const check = setup({
      default: { ...GENEROUS, requestsPerS: 1, burst: 3 },
      streams: {
        s: { partitions: 1, type: 'COMMON', limits: { recordsPerS: 1, burstRecords: 10 } },
      },
    });
    assert.equal((await check('p', 10)).allowed, true);
    for (let i = 0; i < 5; i += 1) assert.equal((await check('p', 1)).limitedBy, 'stream-records');
    let admitted = 0;
    for (let i = 0; i < 10; i += 1) if ((await check('p', 0)).allowed) admitted += 1;
    assert.equal(admitted, 2, 'the five stream denials cost the principal no requests');
  });

  it('the idempotency store works against a cluster (one key per call)', async () => {
    const store = createRedisIdempotencyStore({
      redis: db.redis,
      acks: testReplicaAcks(db.redis),
      ttlMs: 60_000,
      keyPrefix: `gw:idem:t-${randomUUID()}`,
    });
    const request = { principal: 'p', stream: 's', key: 'k', fingerprint: 'f', lockTtlMs: 5000 };
    const first = await store.begin(request);
    assert.equal(first.kind, 'started');
    await store.complete(first.handle, { status: 200, headers: {}, body: '{}' });
    assert.deepEqual(await store.begin(request), {
      kind: 'replay',
      answer: { status: 200, headers: {}, body: '{}' },
    });
  });
});

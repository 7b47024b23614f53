import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RateLimitPolicyConfig } from '../../src/ratelimit/policy.ts';
import type { RateLimitInput } from '../../src/ratelimit/types.ts';
import { useTestRedis } from '../helpers/redis-fixture.ts';
import { GENEROUS, redisLimiterUnderTest } from '../helpers/ratelimit-fixture.ts';

const bigStream = {
  partitions: 1,
  type: 'COMMON',
  limits: { recordsPerS: 1e9, bytesPerS: 1e12 },
} as const;
const SF_ITEM = /^"[a-z-]+"(;[a-z][a-z0-9-]*=(\d+|"[a-z-]+"))+$/;

describe('Redis rate limiter', () => {
  const db = useTestRedis({ commandTimeoutMs: 1000 });

  /** A limiter with its own key prefix; `stream` and `principal` default to unique names. */
  const setup = (config: Partial<RateLimitPolicyConfig>) => {
    const { limiter, keyPrefix } = redisLimiterUnderTest(db.redis, config);
    const call = (input: Partial<RateLimitInput> = {}) =>
      limiter.check({ principal: 'p', stream: 's', records: 1, bytes: 1, ...input });
    const admitted = async (n: number, input: Partial<RateLimitInput> = {}) => {
      let count = 0;
      for (let i = 0; i < n; i += 1) {
        const decision = await call(input);
        assert.equal(decision.source, 'redis');
        if (decision.allowed) count += 1;
      }
      return count;
    };
    return { keyPrefix, call, admitted };
  };

  // Rates are low enough that a loaded machine cannot refill a bucket between two calls of a test.
  it('admits the burst, then denies with a retry-after of at most one refill interval', async () => {
    const t = setup({
      default: { ...GENEROUS, requestsPerS: 1, burst: 5 },
      streams: { s: bigStream },
    });
    assert.equal(await t.admitted(5), 5);
    const denied = await t.call();
    assert.equal(denied.allowed, false);
    assert.equal(denied.limitedBy, 'principal-requests');
    assert.ok(denied.retryAfterMs >= 1 && denied.retryAfterMs <= 1000, `${denied.retryAfterMs}`);
  });

  it('refills over time at the configured rate, up to the burst and no further', async () => {
    const t = setup({
      default: { ...GENEROUS, requestsPerS: 10, burst: 5 },
      streams: { s: bigStream },
    });
    let denied = await t.call();
    for (let i = 0; denied.allowed && i < 100; i += 1) denied = await t.call();
    assert.equal(denied.allowed, false);
    await sleep(denied.retryAfterMs + 5);
    assert.equal((await t.call()).allowed, true, 'allowed once retry-after has passed');

    await sleep(600);
    const started = performance.now();
    const count = await t.admitted(15);
    const elapsedMs = performance.now() - started;
    assert.ok(count >= 5, `at least the refilled burst, got ${count}`);
    // What trickled in while the 15 calls ran (10/s), plus one for rounding.
    assert.ok(count <= 5 + Math.ceil((elapsedMs * 10) / 1000) + 1, `${count} in ${elapsedMs} ms`);
  });

  it('charges records and bytes by their count, and names the bucket that ran out', async () => {
    const t = setup({
      default: { ...GENEROUS, recordsPerS: 10, burstRecords: 100 },
      streams: {
        s: bigStream,
        b: { partitions: 1, type: 'COMMON', limits: { bytesPerS: 10, burstBytes: 1000 } },
      },
    });
    assert.equal((await t.call({ records: 60 })).allowed, true);
    const byRecords = await t.call({ records: 60 });
    assert.equal(byRecords.limitedBy, 'principal-records');
    // 20 records missing at 10/s.
    assert.ok(byRecords.retryAfterMs > 1000 && byRecords.retryAfterMs <= 2000);

    assert.equal((await t.call({ stream: 'b', records: 0, bytes: 600 })).allowed, true);
    const byBytes = await t.call({ stream: 'b', records: 0, bytes: 600 });
    assert.equal(byBytes.limitedBy, 'stream-bytes');
    // 200 bytes missing at 10/s.
    assert.ok(byBytes.retryAfterMs > 19_000 && byBytes.retryAfterMs <= 20_000);
  });

  it('a denied request consumes from none of its buckets', async () => {
    const t = setup({
      default: { ...GENEROUS, requestsPerS: 1, burst: 3 },
      streams: {
        s: { partitions: 1, type: 'COMMON', limits: { recordsPerS: 1, burstRecords: 10 } },
      },
    });
    assert.equal((await t.call({ records: 10 })).allowed, true);
    for (let i = 0; i < 5; i += 1) {
      assert.equal((await t.call({ records: 1 })).limitedBy, 'stream-records');
    }
    assert.equal(await t.admitted(10, { records: 0 }), 2, 'the five denials spent no requests');
  });

  it('a request above the burst passes only on a full bucket and leaves a debt', async () => {
    const t = setup({
      default: { ...GENEROUS, recordsPerS: 10, burstRecords: 10 },
      streams: { s: bigStream },
    });
    assert.equal((await t.call({ records: 30 })).allowed, true);
    const next = await t.call({ records: 1 });
    assert.equal(next.limitedBy, 'principal-records');
    assert.ok(next.retryAfterMs > 1900 && next.retryAfterMs <= 2100, `${next.retryAfterMs}`);
  });

  it("a stream's limit is shared by the principals writing to it", async () => {
    const t = setup({
      streams: {
        s: { partitions: 1, type: 'COMMON', limits: { recordsPerS: 1, burstRecords: 4 } },
      },
    });
    assert.equal(await t.admitted(2, { principal: 'a' }), 2);
    assert.equal(await t.admitted(2, { principal: 'b' }), 2);
    assert.equal((await t.call({ principal: 'c' })).limitedBy, 'stream-records');
    assert.equal((await t.call({ principal: 'c', stream: 'other' })).allowed, true);
  });

  it('a per-principal override applies to that principal only', async () => {
    const t = setup({
      default: { ...GENEROUS, requestsPerS: 0.1, burst: 3 },
      principals: { vip: { requestsPerS: 0.1, burst: 30 } },
      streams: { s: bigStream },
    });
    assert.equal(await t.admitted(40, { principal: 'vip' }), 30);
    assert.equal(await t.admitted(40, { principal: 'plain' }), 3);
  });

  it('principals whose names differ only by braces and colons get separate buckets', async () => {
    const t = setup({ default: { ...GENEROUS, requestsPerS: 0.1, burst: 1 }, streams: {} });
    assert.equal((await t.call({ principal: 'a}:{b', stream: 'x' })).allowed, true);
    assert.equal((await t.call({ principal: 'a', stream: 'b}:{x' })).allowed, true);
    assert.equal((await t.call({ principal: '{a}', stream: 'x' })).allowed, true);
    assert.equal((await t.call({ principal: 'a}:{b', stream: 'x' })).allowed, false);
  });

  it('every answer carries RateLimit-Policy and RateLimit, counting down to r=0 on the denial', async () => {
    const t = setup({
      default: { ...GENEROUS, requestsPerS: 1, burst: 3 },
      streams: { s: bigStream },
    });
    const seen: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      const decision = await t.call();
      const policy = decision.headers['RateLimit-Policy'] ?? '';
      for (const item of policy.split(', ')) assert.match(item, SF_ITEM);
      assert.match(decision.headers.RateLimit ?? '', SF_ITEM);
      seen.push(decision.headers.RateLimit ?? '');
    }
    assert.deepEqual(seen, [
      '"principal-requests";r=2;t=1',
      '"principal-requests";r=1;t=2',
      '"principal-requests";r=0;t=3',
      '"principal-requests";r=0;t=1',
    ]);
  });

  it('every bucket key expires once its bucket would be full again', async () => {
    const t = setup({
      default: {
        requestsPerS: 1,
        burst: 5,
        recordsPerS: 2,
        bytesPerS: 100,
        burstRecords: 5,
        burstBytes: 500,
      },
      streams: { s: { partitions: 1, type: 'COMMON', limits: { recordsPerS: 1, bytesPerS: 50 } } },
    });
    assert.equal((await t.call({ records: 2, bytes: 100 })).allowed, true);
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await db.redis.scan(cursor, 'MATCH', `${t.keyPrefix}:*`, 'COUNT', 100);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    assert.equal(keys.length, 5);
    // Time to full: requests 1 s, records 1 s, bytes 1 s, stream records 2 s, stream bytes 2 s.
    for (const key of keys) {
      const ttl = await db.redis.pttl(key);
      const full = key.startsWith(`${t.keyPrefix}:{s:`) ? 2000 : 1000;
      assert.ok(ttl > 0 && ttl <= full, `${key} expires in ${ttl} ms`);
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryRateLimiter } from '../../src/ratelimit/memory-limiter.ts';
import { createRateLimitPolicy } from '../../src/ratelimit/policy.ts';
import type { RateLimitPolicyConfig } from '../../src/ratelimit/policy.ts';
import type { RateLimitInput } from '../../src/ratelimit/types.ts';

const generous = { requestsPerS: 1e6, burst: 1e6, recordsPerS: 1e9, bytesPerS: 1e12 };
const bigStream = {
  partitions: 1,
  type: 'COMMON',
  limits: { recordsPerS: 1e9, bytesPerS: 1e12 },
} as const;

function setup(config: Partial<RateLimitPolicyConfig> = {}, maxKeys?: number) {
  let now = 1_700_000_000_000;
  const policy = createRateLimitPolicy({
    default: { requestsPerS: 10, burst: 5, recordsPerS: 1e6, bytesPerS: 1e9 },
    principals: {},
    streams: { s: bigStream },
    ...config,
  });
  const limiter = createMemoryRateLimiter({
    policy,
    now: () => now,
    ...(maxKeys === undefined ? {} : { maxKeys }),
  });
  const call = (input: Partial<RateLimitInput> = {}) =>
    limiter.check({ principal: 'p', stream: 's', records: 1, bytes: 1, ...input });
  const admitted = async (n: number, input: Partial<RateLimitInput> = {}) => {
    let count = 0;
    for (let i = 0; i < n; i += 1) if ((await call(input)).allowed) count += 1;
    return count;
  };
  return {
    call,
    admitted,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

// RFC 8941 List of Strings with Integer/String parameters.
const SF_ITEM = /^"[a-z-]+"(;[a-z][a-z0-9-]*=(\d+|"[a-z-]+"))+$/;

describe('memory rate limiter', () => {
  it('admits the burst at once, then denies with the time until one more unit refills', async () => {
    const t = setup();
    assert.equal(await t.admitted(5), 5);
    const denied = await t.call();
    assert.equal(denied.allowed, false);
    assert.equal(denied.limitedBy, 'principal-requests');
    assert.equal(denied.retryAfterMs, 100);
    assert.equal(denied.source, 'memory');
  });

  it('refills at the sustained rate: one second later exactly ten more pass', async () => {
    const t = setup();
    await t.admitted(5);
    t.advance(99);
    assert.equal((await t.call()).allowed, false);
    t.advance(1);
    assert.equal((await t.call()).allowed, true);
    t.advance(1000);
    assert.equal(await t.admitted(20), 5, 'refill stops at the burst');
    t.advance(1000);
    assert.equal(await t.admitted(20), 5);
  });

  it('charges records and bytes by their count, and the bucket that runs out names itself', async () => {
    const t = setup({
      default: { ...generous, recordsPerS: 100, burstRecords: 100 },
      streams: { s: bigStream, b: { partitions: 1, type: 'COMMON', limits: { bytesPerS: 1000 } } },
    });
    assert.equal((await t.call({ records: 60 })).allowed, true);
    const byRecords = await t.call({ records: 60 });
    assert.equal(byRecords.limitedBy, 'principal-records');
    assert.equal(byRecords.retryAfterMs, 200, '20 records missing at 100/s');
    assert.equal((await t.call({ records: 40 })).allowed, true, 'what is left can be used');

    assert.equal((await t.call({ stream: 'b', records: 0, bytes: 600 })).allowed, true);
    const byBytes = await t.call({ stream: 'b', records: 0, bytes: 600 });
    assert.equal(byBytes.limitedBy, 'stream-bytes');
    assert.equal(byBytes.retryAfterMs, 200, '200 bytes missing at 1000/s');
  });

  it('a denied request takes nothing from the buckets that would have allowed it', async () => {
    const t = setup({
      default: { ...generous, requestsPerS: 10, burst: 3 },
      streams: {
        s: { partitions: 1, type: 'COMMON', limits: { recordsPerS: 10, burstRecords: 10 } },
      },
    });
    assert.equal((await t.call({ records: 10 })).allowed, true);
    for (let i = 0; i < 5; i += 1) {
      assert.equal((await t.call({ records: 1 })).limitedBy, 'stream-records');
    }
    assert.equal(await t.admitted(10, { records: 0 }), 2, 'the five denials spent no requests');
  });

  it('a request larger than the burst passes only when the bucket is full, then the debt is repaid', async () => {
    const t = setup({ default: { ...generous, recordsPerS: 100, burstRecords: 100 } });
    assert.equal((await t.call({ records: 99 })).allowed, true);
    const tooEarly = await t.call({ records: 300 });
    assert.equal(tooEarly.allowed, false);
    assert.equal(tooEarly.retryAfterMs, 990, 'waits for a full bucket, not for 300 records');
    t.advance(990);
    assert.equal((await t.call({ records: 300 })).allowed, true);
    const next = await t.call({ records: 1 });
    assert.equal(next.allowed, false);
    assert.equal(next.retryAfterMs, 2010, '200 records of debt plus one record');
  });

  it("a stream's limit is shared by every principal that writes to it", async () => {
    const t = setup({
      default: generous,
      streams: {
        s: { partitions: 1, type: 'COMMON', limits: { recordsPerS: 10, burstRecords: 4 } },
      },
    });
    assert.equal(await t.admitted(2, { principal: 'a' }), 2);
    assert.equal(await t.admitted(2, { principal: 'b' }), 2);
    const c = await t.call({ principal: 'c' });
    assert.equal(c.limitedBy, 'stream-records');
    assert.equal((await t.call({ principal: 'a', stream: 'other' })).allowed, true);
  });

  it('a principal override applies to that principal only', async () => {
    const t = setup({ principals: { vip: { requestsPerS: 100, burst: 50 } } });
    assert.equal(await t.admitted(60, { principal: 'vip' }), 50);
    assert.equal(await t.admitted(60, { principal: 'plain' }), 5);
  });

  it('every answer carries well-formed RateLimit-Policy and RateLimit fields naming the tightest bucket', async () => {
    const t = setup();
    const first = await t.call();
    const policy = first.headers['RateLimit-Policy'] ?? '';
    const items = policy.split(', ');
    assert.equal(items.length, 5);
    for (const item of items) assert.match(item, SF_ITEM);
    assert.equal(items[0], '"principal-requests";q=10;w=1;qu="request";gw-burst=5');
    assert.equal(first.headers.RateLimit, '"principal-requests";r=4;t=1');
    await t.admitted(4);
    t.advance(1);
    const denied = await t.call();
    assert.match(denied.headers.RateLimit ?? '', SF_ITEM);
    assert.equal(denied.headers.RateLimit, '"principal-requests";r=0;t=1');
  });

  it('keeps at most maxKeys buckets: an idle caller is forgotten first', async () => {
    const t = setup({ default: { ...generous, requestsPerS: 1, burst: 1 } }, 3);
    assert.equal((await t.call({ principal: 'idle' })).allowed, true);
    assert.equal((await t.call({ principal: 'idle' })).allowed, false, 'remembered while few keys');
    for (const principal of ['x', 'y', 'z']) await t.call({ principal });
    assert.equal((await t.call({ principal: 'idle' })).allowed, true, 'evicted, so full again');
    assert.equal((await t.call({ principal: 'z' })).allowed, false, 'recent callers are kept');
  });
});

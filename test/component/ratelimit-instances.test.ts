import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { createMemoryRateLimiter } from '../../src/ratelimit/memory-limiter.ts';
import { createRateLimitPolicy } from '../../src/ratelimit/policy.ts';
import { createRedisRateLimiter } from '../../src/ratelimit/redis-limiter.ts';
import { closeRedis } from '../../src/redis/connect.ts';
import { connectTestRedis, startRedis } from '../helpers/redis-server.ts';

const RATE = 200;
const BURST = 50;
const DURATION_MS = 3000;
const CONCURRENCY_PER_INSTANCE = 8;

describe('rate limits shared by gateway instances', () => {
  it('three instances on one Redis, hammering for 3 s at 200/s burst 50, together admit about rate × time + burst', async (t) => {
    const server = await startRedis();
    t.after(() => server.stop());
    const policy = createRateLimitPolicy({
      default: { requestsPerS: RATE, burst: BURST, recordsPerS: 1e9, bytesPerS: 1e12 },
      principals: {},
      streams: {
        s: { partitions: 1, type: 'COMMON', limits: { recordsPerS: 1e9, bytesPerS: 1e12 } },
      },
    });
    const keyPrefix = `gw:rl:t-${randomUUID()}`;
    // Three simulated instances: separate connections, separate limiters, separate clocks that
    // disagree by minutes (the script reads Redis's clock, so skew must not matter).
    const instances = await Promise.all(
      [0, -90_000, 120_000].map(async (skewMs) => {
        const redis = await connectTestRedis(server, { connectTimeoutMs: 2000 });
        t.after(() => closeRedis(redis));
        const now = () => Date.now() + skewMs;
        return createRedisRateLimiter({
          redis,
          policy,
          onError: 'fail-closed',
          fallback: createMemoryRateLimiter({ policy, now }),
          now,
          keyPrefix,
        });
      }),
    );

    const started = performance.now();
    const admittedBy = instances.map(() => 0);
    let calls = 0;
    await Promise.all(
      instances.flatMap((limiter, index) =>
        Array.from({ length: CONCURRENCY_PER_INSTANCE }, async () => {
          while (performance.now() - started < DURATION_MS) {
            const decision = await limiter.check({
              principal: 'hammer',
              stream: 's',
              records: 1,
              bytes: 1,
            });
            assert.equal(decision.source, 'redis');
            calls += 1;
            if (decision.allowed) admittedBy[index] = (admittedBy[index] ?? 0) + 1;
          }
        }),
      ),
    );
    const elapsedS = (performance.now() - started) / 1000;

    const admitted = admittedBy.reduce((a, b) => a + b, 0);
    const allowance = RATE * elapsedS + BURST;
    const ratio = admitted / allowance;
    t.diagnostic(
      `admitted ${admitted} of ${calls} calls in ${elapsedS.toFixed(2)} s ` +
        `(per instance ${admittedBy.join('/')}); allowance ${allowance.toFixed(0)}; ` +
        `over-admission ${ratio.toFixed(4)}`,
    );
    assert.ok(calls > admitted * 2, 'the limiter was saturated, so the test measures the limit');
    assert.ok(
      admittedBy.every((n) => n > 0),
      'every instance took part',
    );
    assert.ok(ratio <= 1.05, `over-admission ${ratio}`);
    // Far from flaky: only event-loop stalls longer than a burst (250 ms) lose allowance.
    assert.ok(ratio >= 0.7, `under-admission ${ratio}`);
  });
});

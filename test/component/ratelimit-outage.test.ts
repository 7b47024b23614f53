import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../../src/errors/app-error.ts';
import { createMemoryRateLimiter } from '../../src/ratelimit/memory-limiter.ts';
import { createRateLimitPolicy } from '../../src/ratelimit/policy.ts';
import { createRedisRateLimiter } from '../../src/ratelimit/redis-limiter.ts';
import type { RateLimitDecision } from '../../src/ratelimit/types.ts';
import { startTestRedis } from '../helpers/redis-fixture.ts';

const policy = createRateLimitPolicy({
  default: { requestsPerS: 1, burst: 3, recordsPerS: 1e6, bytesPerS: 1e9 },
  principals: { poller: { requestsPerS: 1e6, burst: 1e6 } },
  streams: { s: { partitions: 100, type: 'ADVANCED' } },
});

async function setup(
  t: TestContext,
  onError: 'fail-open' | 'fail-closed',
  retryRedisAfterMs = 100,
) {
  const connectionErrors: Error[] = [];
  const { server, redis } = await startTestRedis(t, {
    commandTimeoutMs: 100,
    connectTimeoutMs: 500,
    maxReconnectDelayMs: 500,
    onError: (error) => connectionErrors.push(error),
  });
  const fallbacks: unknown[] = [];
  const decisions: RateLimitDecision[] = [];
  const limiter = createRedisRateLimiter({
    redis,
    policy,
    onError,
    fallback: createMemoryRateLimiter({ policy, now: Date.now }),
    now: Date.now,
    retryRedisAfterMs,
    events: {
      fallback: (error) => fallbacks.push(error),
      decision: (decision) => decisions.push(decision),
    },
  });
  const check = (principal = 'p') =>
    limiter.check({ principal, stream: 's', records: 1, bytes: 1 });
  /** Polls until a decision comes from Redis again; returns how long that took. */
  const untilRedis = async (): Promise<number> => {
    const started = performance.now();
    while (performance.now() - started < 15_000) {
      const decision = await check('poller').catch(() => undefined);
      if (decision?.source === 'redis') return performance.now() - started;
      await sleep(50);
    }
    throw new Error('limits never came back to Redis');
  };
  return { server, redis, check, untilRedis, fallbacks, decisions, connectionErrors };
}

describe('rate limits while Redis is away', () => {
  it('fail-open: decisions keep coming from the memory limiter, which still limits, and return to Redis on restart', async (t) => {
    const h = await setup(t, 'fail-open');
    assert.equal((await h.check()).source, 'redis');

    await h.server.stop();
    const during: RateLimitDecision[] = [];
    for (let i = 0; i < 5; i += 1) during.push(await h.check('outage'));
    assert.deepEqual(
      during.map((d) => [d.source, d.allowed]),
      [
        ['memory', true],
        ['memory', true],
        ['memory', true],
        ['memory', false],
        ['memory', false],
      ],
    );
    assert.ok(during[3]?.headers.RateLimit?.startsWith('"principal-requests";r=0'));
    assert.equal(h.fallbacks.length, 5, 'each fallback decision is counted');
    assert.equal(h.decisions.filter((d) => d.source === 'memory').length, 5);
    // The client keeps trying to reconnect; each refused attempt reaches onError.
    const deadline = performance.now() + 5000;
    while (h.connectionErrors.length === 0 && performance.now() < deadline) await sleep(50);
    assert.ok(h.connectionErrors.length > 0, 'connection errors were reported through onError');

    await h.server.start();
    const tookMs = await h.untilRedis();
    t.diagnostic(
      `fail-open: decisions came from Redis again ${Math.round(tookMs)} ms after restart`,
    );
    // Redis restarted empty: the principal's Redis buckets are full again.
    assert.equal((await h.check('outage')).source, 'redis');
  });

  it('fail-closed: every check is a 503 ERR_REDIS_UNAVAILABLE with Retry-After until Redis is back', async (t) => {
    const h = await setup(t, 'fail-closed');
    assert.equal((await h.check()).source, 'redis');

    await h.server.stop();
    for (let i = 0; i < 3; i += 1) {
      await assert.rejects(h.check(), (error: unknown) => {
        assert.ok(error instanceof AppError);
        assert.equal(error.code, 'ERR_REDIS_UNAVAILABLE');
        assert.equal(error.status, 503);
        assert.deepEqual(error.headers, { 'Retry-After': '1' });
        return true;
      });
    }
    assert.equal(h.fallbacks.length, 0, 'fail-closed never uses the memory limiter');

    await h.server.start();
    const tookMs = await h.untilRedis();
    t.diagnostic(
      `fail-closed: decisions came from Redis again ${Math.round(tookMs)} ms after restart`,
    );
    assert.equal((await h.check()).allowed, true);
  });

  it('when Redis hangs, a decision waits about the command timeout, not longer, then falls back', async (t) => {
    const h = await setup(t, 'fail-open', 1000);
    const info = await h.redis.info('server');
    const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
    assert.ok(pid > 0);
    const resume = () => {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // Already stopped for good by the server's own cleanup.
      }
    };
    process.kill(pid, 'SIGSTOP');
    t.after(resume);

    const started = performance.now();
    const decision = await h.check();
    const waitedMs = performance.now() - started;
    t.diagnostic(`hung Redis: decided by ${decision.source} after ${Math.round(waitedMs)} ms`);
    assert.equal(decision.source, 'memory');
    assert.ok(waitedMs >= 90, `waited ${waitedMs} ms, expected the 100 ms command timeout`);
    assert.ok(waitedMs < 2000, `waited ${waitedMs} ms`);
    const next = performance.now();
    assert.equal((await h.check()).source, 'memory');
    assert.ok(performance.now() - next < 90, 'right after a timeout, Redis is skipped briefly');

    resume();
    const tookMs = await h.untilRedis();
    t.diagnostic(`hung Redis: back to Redis ${Math.round(tookMs)} ms after it resumed`);
  });
});

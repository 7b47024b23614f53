// What one rate-limit Redis call costs the gateway's process: 40,000 calls, 64 in flight, against a
// redis-server of its own (`node test/bench/ratelimit-call.ts`). README "Rate limits" quotes it.
import { createMemoryRateLimiter } from '../../src/ratelimit/memory-limiter.ts';
import { createRateLimitPolicy } from '../../src/ratelimit/policy.ts';
import { createRedisRateLimiter } from '../../src/ratelimit/redis-limiter.ts';
import { createRedis, closeRedis, whenReady } from '../../src/redis/connect.ts';
import { startRedis } from '../helpers/redis-server.ts';

const CALLS = 40_000;
const IN_FLIGHT = 64;

const server = await startRedis();
const redis = createRedis({
  connection: { mode: 'standalone', url: server.url },
  commandTimeoutMs: 1_000,
  connectTimeoutMs: 1_000,
});
try {
  await whenReady(redis, 5_000);
  const generous = { requestsPerS: 1e6, burst: 1e6, recordsPerS: 1e9, bytesPerS: 1e12 };
  const policy = createRateLimitPolicy({
    default: generous,
    principals: {},
    streams: {
      s: { partitions: 1, type: 'COMMON', limits: { recordsPerS: 1e9, bytesPerS: 1e12 } },
    },
  });
  const limiter = createRedisRateLimiter({
    redis,
    policy,
    onError: 'fail-open',
    fallback: createMemoryRateLimiter({ policy, now: Date.now }),
    now: Date.now,
  });
  const call = (i: number) =>
    limiter.check({ principal: `p${i % 50}`, stream: 's', records: 1, bytes: 100 });
  for (let i = 0; i < 2_000; i += 1) await call(i);
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < CALLS) await call((next += 1));
    }),
  );
  const used = process.cpuUsage(cpu);
  const ms = performance.now() - started;
  console.log(
    `${CALLS} calls: ${Math.round((CALLS / ms) * 1000)} calls/s, ` +
      `${((used.user + used.system) / CALLS).toFixed(1)} µs of gateway CPU per call`,
  );
} finally {
  await closeRedis(redis);
  await server.stop();
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Cleanup } from '../helpers/cleanup.ts';
import { startGatewayFixture } from '../helpers/process-fixture.ts';
import { runMain, spawnGateway } from '../helpers/process-gateway.ts';
import { startRedis } from '../helpers/redis-server.ts';
import { replicationInfo } from '../helpers/redis-topology.ts';
import { waitFor } from '../helpers/wait.ts';

// What the gateway says about its Redis when it starts, from the real entry point.

async function productionEnv(redisUrl: string, t: Cleanup) {
  const fixture = await startGatewayFixture(t, { name: 'startup', partitions: 1 });
  return {
    ...fixture.env,
    NODE_ENV: 'production',
    REDIS_URL: redisUrl,
    GATEWAY_STREAMS: `clicks=${fixture.disStream}:1`,
  };
}

describe('Redis settings at startup', () => {
  it('in production, a Redis that may evict keys (allkeys-lru) is refused: exit 1 with the setting to change', async (t) => {
    const redis = await startRedis({ args: ['--maxmemory-policy', 'allkeys-lru'] });
    t.after(() => redis.stop());
    const result = await runMain({ env: await productionEnv(redis.url, t) });
    assert.equal(result.code, 1, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
    assert.doesNotMatch(result.stdout, /listening on/);
    assert.match(
      result.stderr,
      /refusing to start:\n {2}- Redis: maxmemory-policy is allkeys-lru, .*set maxmemory-policy noeviction/,
    );
    assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
  });

  it('with noeviction and no replica, it starts and says that acknowledgements are not replicated; AOF off is a warning', async (t) => {
    const redis = await startRedis();
    t.after(() => redis.stop());
    const gateway = await spawnGateway(t, { env: await productionEnv(redis.url, t) });
    const lines = gateway.stdout();
    assert.match(
      lines,
      /"level":"warn".*Redis has no replica to confirm writes \(primary: 0 connected; spool.min_replica_acks auto\)/,
    );
    assert.match(lines, /"level":"warn".*appendonly is off/);
  });

  it('with a replica, acknowledged writes wait for it, and the start says so', async (t) => {
    const primary = await startRedis({ args: ['--appendonly', 'yes'] });
    t.after(() => primary.stop());
    const replica = await startRedis({
      args: ['--appendonly', 'yes', '--replicaof', '127.0.0.1', String(primary.port)],
    });
    t.after(() => replica.stop());
    await waitFor('the replica to attach', async () =>
      (await replicationInfo(primary.port)).get('slave0')?.includes('state=online') === true
        ? true
        : undefined,
    );
    const gateway = await spawnGateway(t, { env: await productionEnv(primary.url, t) });
    assert.match(
      gateway.stdout(),
      /"level":"info".*acknowledged writes wait for 1 Redis replica\(s\), at most 500 ms \(spool.min_replica_acks auto; connected replicas: primary: 1\)/,
    );
    assert.doesNotMatch(gateway.stdout(), /appendonly is off/);
  });
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AppError } from '../../src/errors/app-error.ts';
import { createRedisIdempotencyStore } from '../../src/idempotency/redis-store.ts';
import { closeRedis, type RedisClient } from '../../src/redis/connect.ts';
import { checkRedisPersistence } from '../../src/redis/persistence-check.ts';
import {
  createReplicaAcks,
  type ReplicaAcks,
  type ReplicatedWrite,
} from '../../src/redis/replication.ts';
import { startTestRedis } from '../helpers/redis-fixture.ts';
import { connectTestRedis, startRedis, type RedisServer } from '../helpers/redis-server.ts';
import { replicationInfo } from '../helpers/redis-topology.ts';
import { spoolUnderTest } from '../helpers/spool-fixture.ts';
import { waitFor } from '../helpers/wait.ts';

// A primary with one replica: acknowledged writes are confirmed by WAIT, and a replica that stops
// answering turns them into 503s instead of acknowledgements a failover could take back.

const record = { data: Buffer.from('{"n":1}'), partitionKey: 'k' };

describe('acknowledged writes wait for the replicas', () => {
  let primary: RedisServer;
  let replica: RedisServer;
  let redis: RedisClient;
  /** A spool of its own (key prefix) on the primary, acknowledging through `acks`. */
  const spoolWith = (acks: ReplicaAcks) =>
    spoolUnderTest(redis, { acks, maxEntries: 100, receiptTtlS: 60 }).spool;

  before(async () => {
    primary = await startRedis();
    replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
    await waitFor('the replica to sync', async () => {
      const info = await replicationInfo(primary.port);
      return info.get('slave0')?.includes('state=online') === true ? true : undefined;
    });
    redis = await connectTestRedis(primary);
  });
  after(async () => {
    await closeRedis(redis);
    await replica.stop();
    await primary.stop();
  });

  it('auto asks for one confirmation when the primary has a replica, and none without one', async (t) => {
    const acks = createReplicaAcks(redis, { minReplicaAcks: 'auto', timeoutMs: 500 });
    assert.equal(await acks.required(), 1);
    assert.deepEqual(await acks.census(), { primaries: [{ address: 'primary', replicas: 1 }] });
    const { redis: loneClient } = await startTestRedis(t);
    const loneAcks = createReplicaAcks(loneClient, { minReplicaAcks: 'auto', timeoutMs: 500 });
    assert.equal(await loneAcks.required(), 0);
  });

  it('auto that started at 0 goes up once a replica has attached (the primaries are asked again every 10 s), never down', async (t) => {
    const { server: lone, redis: client } = await startTestRedis(t);
    let clock = 1_000_000;
    const raised: number[] = [];
    const acks = createReplicaAcks(
      client,
      { minReplicaAcks: 'auto', timeoutMs: 500 },
      { raised: (n) => raised.push(n) },
      () => clock,
    );
    assert.equal(await acks.required(), 0);
    const late = await startRedis({ args: ['--replicaof', '127.0.0.1', String(lone.port)] });
    t.after(() => late.stop());
    await waitFor('the replica to attach', async () =>
      (await replicationInfo(lone.port)).get('slave0')?.includes('state=online') === true
        ? true
        : undefined,
    );
    assert.equal(await acks.required(), 0, 'not asked again within 10 s');
    clock += 10_000;
    assert.equal(
      await acks.required(),
      0,
      'the write that triggers the question goes on as before',
    );
    await waitFor('auto to go up', () => (raised.length > 0 ? true : undefined));
    assert.deepEqual(raised, [1]);
    assert.equal(await acks.required(), 1);
    await late.stop();
    clock += 60_000;
    assert.equal(
      await acks.required(),
      1,
      'a replica that goes away makes writes fail, not unconfirmed',
    );
  });

  it('with a healthy replica an append is acknowledged, and its receipt is already on the replica', async () => {
    const spool = spoolWith(createReplicaAcks(redis, { minReplicaAcks: 'auto', timeoutMs: 2000 }));
    const { receiptId } = await spool.append({
      disStream: 'dis-a',
      logicalStream: 'a',
      owner: 'p',
      records: [record],
    });
    // Read from the replica itself: WAIT returned, so it already has the write.
    const onReplica = await connectTestRedis(replica);
    try {
      const keys = await onReplica.keys(`*${receiptId}*`);
      assert.equal(keys.length, 1, 'the receipt is on the replica');
    } finally {
      await closeRedis(onReplica);
    }
  });

  it('while the replica is frozen, an append and an idempotent verdict answer 503 ERR_REDIS_REPLICATION_TIMEOUT, counted by write', async () => {
    const timeouts: ReplicatedWrite[] = [];
    const acks = createReplicaAcks(
      redis,
      { minReplicaAcks: 1, timeoutMs: 200 },
      { timeout: (write) => timeouts.push(write) },
    );
    const spool = spoolWith(acks);
    const store = createRedisIdempotencyStore({
      redis,
      acks,
      ttlMs: 60_000,
      keyPrefix: `gw:idem:t-${randomUUID()}`,
    });
    const begun = await store.begin({
      principal: 'p',
      stream: 's',
      key: 'k',
      fingerprint: 'f',
      lockTtlMs: 10_000,
    });
    if (begun.kind !== 'started') assert.fail(`begin answered ${begun.kind}`);
    const pid = await replica.pid();
    process.kill(pid, 'SIGSTOP');
    try {
      await assert.rejects(
        spool.append({ disStream: 'dis-b', logicalStream: 'b', owner: 'p', records: [record] }),
        (error: unknown) =>
          error instanceof AppError &&
          error.code === 'ERR_REDIS_REPLICATION_TIMEOUT' &&
          error.status === 503 &&
          error.headers['Retry-After'] === '1',
      );
      await assert.rejects(
        store.complete(begun.handle, { status: 200, headers: {}, body: '{}' }),
        (error: unknown) =>
          error instanceof AppError && error.code === 'ERR_REDIS_REPLICATION_TIMEOUT',
      );
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    assert.deepEqual(timeouts, ['spool_append', 'idempotency_verdict']);
    // Once the replica answers again, the same writes are acknowledged.
    await spool.append({ disStream: 'dis-b', logicalStream: 'b', owner: 'p', records: [record] });
  });

  it('asking for more replicas than exist fails every acknowledged write rather than pretending', async () => {
    const acks = createReplicaAcks(redis, { minReplicaAcks: 2, timeoutMs: 100 });
    const spool = spoolWith(acks);
    await assert.rejects(
      spool.append({ disStream: 'dis-c', logicalStream: 'c', owner: 'p', records: [record] }),
      { code: 'ERR_REDIS_REPLICATION_TIMEOUT' },
    );
  });
});

describe('Redis settings read at startup', () => {
  it('an eviction policy other than noeviction is a refusal; AOF off is a warning', async (t) => {
    const { redis } = await startTestRedis(t, { args: ['--maxmemory-policy', 'volatile-lru'] });
    const findings = await checkRedisPersistence(redis);
    assert.equal(findings.refusals.length, 1);
    assert.match(findings.refusals[0] ?? '', /maxmemory-policy is volatile-lru/);
    assert.equal(findings.warnings.length, 1);
    assert.match(findings.warnings[0] ?? '', /appendonly is off/);
  });

  it('noeviction with AOF on passes without a word', async (t) => {
    const { redis } = await startTestRedis(t, { args: ['--appendonly', 'yes'] });
    assert.deepEqual(await checkRedisPersistence(redis), { refusals: [], warnings: [] });
  });

  it('a Redis that refuses CONFIG GET (a managed one) gets a warning, not a refusal', async (t) => {
    const { redis } = await startTestRedis(t, { args: ['--rename-command', 'CONFIG', ''] });
    const findings = await checkRedisPersistence(redis);
    assert.deepEqual(findings.refusals, []);
    assert.equal(findings.warnings.length, 1);
    assert.match(
      findings.warnings[0] ?? '',
      /cannot read its settings \(CONFIG GET: ERR unknown command/,
    );
  });
});

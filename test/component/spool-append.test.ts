import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { AppError } from '../../src/errors/app-error.ts';
import { whenReady } from '../../src/redis/connect.ts';
import type { SpoolOptions } from '../../src/spool/spool.ts';
import { startTestRedis, useTestRedis } from '../helpers/redis-fixture.ts';
import { spoolUnderTest } from '../helpers/spool-fixture.ts';

const records = (n: number, tag = 'r') =>
  Array.from({ length: n }, (_, i) => ({
    data: Buffer.from(`${tag}-${i}`),
    partitionKey: `k${i}`,
  }));

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof AppError, `expected an AppError, got ${String(error)}`);
    assert.equal(error.code, code);
    return error;
  }
  return assert.fail(`expected ${code}`);
}

describe('spool append, receipts and stats on a standalone Redis', () => {
  const db = useTestRedis();

  /** A spool with its own key prefix, so each test owns its keys. */
  const setup = (overrides: Partial<SpoolOptions> = {}) =>
    spoolUnderTest(db.redis, { maxEntries: 1000, receiptTtlS: 3600, ...overrides });

  it('an append stores every record with its bytes and keys and answers a pending receipt', async () => {
    const { spool, keys } = setup();
    const data = Buffer.from([0, 255, 10, 13, 0x7b]);
    const { receiptId } = await spool.append({
      disStream: 'dis-clicks',
      logicalStream: 'clicks',
      owner: 'svc-a',
      records: [
        { data, partitionKey: 'user-1' },
        { data: Buffer.from('b'), partitionId: '1' },
      ],
    });
    const entries = await db.redis.xrangeBuffer(keys.stream('dis-clicks'), '-', '+');
    assert.equal(entries.length, 2);
    const fields = entries.map(([, f]) => f.map((b) => b.toString('latin1')));
    assert.deepEqual(fields[0], [
      'data',
      data.toString('latin1'),
      'partition_key',
      'user-1',
      'receipt',
      receiptId,
      'index',
      '0',
    ]);
    assert.deepEqual(fields[1], [
      'data',
      'b',
      'partition_id',
      '1',
      'receipt',
      receiptId,
      'index',
      '1',
    ]);
    const receipt = await spool.receipt(receiptId, { owner: 'svc-a', operator: false });
    assert.equal(receipt?.status, 'pending');
    assert.equal(receipt.stream, 'clicks');
    assert.deepEqual(receipt.records, [{ status: 'pending' }, { status: 'pending' }]);
    const ttl = await db.redis.pttl(keys.receipt(receiptId));
    assert.ok(ttl > 3_500_000 && ttl <= 3_600_000, `receipt TTL ${ttl}`);
  });

  it('a receipt is shown to its owner and to an operator, and to nobody else', async () => {
    const { spool } = setup();
    const { receiptId } = await spool.append({
      disStream: 'dis-x',
      logicalStream: 'x',
      owner: 'webhook:github-main',
      records: records(1),
    });
    assert.equal(
      (await spool.receipt(receiptId, { owner: 'webhook:github-main', operator: false }))?.id,
      receiptId,
    );
    assert.equal(
      (await spool.receipt(receiptId, { owner: 'svc-ops', operator: true }))?.id,
      receiptId,
    );
    assert.equal(
      await spool.receipt(receiptId, { owner: 'svc-other', operator: false }),
      undefined,
    );
    assert.equal(
      await spool.receipt(randomUUID(), { owner: 'svc-ops', operator: true }),
      undefined,
    );
    assert.equal(await spool.receipt('a}:{b', { owner: 'svc-ops', operator: true }), undefined);
  });

  it('when the spool is full the append is refused with 503 and Retry-After, and nothing of it is stored', async () => {
    const { spool, keys, keyPrefix } = setup({ maxEntries: 5 });
    const target = { disStream: 'dis-full', logicalStream: 'full', owner: 'svc-a' };
    await spool.append({ ...target, records: records(3) });
    const error = await rejectsWith(
      spool.append({ ...target, records: records(3) }),
      'ERR_SPOOL_FULL',
    );
    assert.equal(error.status, 503);
    assert.equal(error.headers['Retry-After'], '5');
    assert.equal(await db.redis.xlen(keys.stream('dis-full')), 3);
    assert.equal((await db.redis.keys(`${keyPrefix}receipt:*`)).length, 1);
    await spool.append({ ...target, records: records(2) });
    assert.equal(
      await db.redis.xlen(keys.stream('dis-full')),
      5,
      'an append that fits exactly is taken',
    );
  });

  it('concurrent appends never push the spool past its bound', async () => {
    const { spool, keys } = setup({ maxEntries: 10 });
    const target = { disStream: 'dis-race', logicalStream: 'race', owner: 'svc-a' };
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => spool.append({ ...target, records: records(3) })),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3);
    assert.equal(await db.redis.xlen(keys.stream('dis-race')), 9);
  });

  it('stats report depth, pending, the oldest entry’s age and dead letters per DIS stream', async () => {
    // The stats clock runs a minute ahead of Redis, so the oldest entry is about a minute old.
    const { spool, keys } = setup({ now: () => Date.now() + 60_000 });
    const target = { disStream: 'dis-stats', logicalStream: 'stats', owner: 'svc-a' };
    await spool.append({ ...target, records: records(4) });
    await db.redis.xgroup('CREATE', keys.stream('dis-stats'), 'forwarders', '0');
    await db.redis.xreadgroup(
      'GROUP',
      'forwarders',
      'someone',
      'COUNT',
      3,
      'STREAMS',
      keys.stream('dis-stats'),
      '>',
    );
    await db.redis.xadd(keys.deadLetter('dis-stats'), '*', 'data', 'x', 'error_code', 'DIS.4302');
    const [stats, empty] = await spool.stats(['dis-stats', 'dis-never-used']);
    assert.ok(stats !== undefined && empty !== undefined);
    assert.equal(stats.disStream, 'dis-stats');
    assert.equal(stats.depth, 4);
    assert.equal(stats.pending, 3);
    assert.equal(stats.deadLetters, 1);
    assert.ok(
      stats.oldestAgeMs >= 60_000 && stats.oldestAgeMs < 70_000,
      `age ${stats.oldestAgeMs}`,
    );
    assert.deepEqual(empty, {
      disStream: 'dis-never-used',
      depth: 0,
      pending: 0,
      oldestAgeMs: 0,
      deadLetters: 0,
    });
  });
});

describe('spool when Redis is down', () => {
  it('an append is refused with ERR_REDIS_UNAVAILABLE (503), and works again once Redis is back', async (t) => {
    const { server, redis } = await startTestRedis(t);
    const { spool } = spoolUnderTest(redis, { maxEntries: 100, receiptTtlS: 60 });
    const input = {
      disStream: 'dis-down',
      logicalStream: 'down',
      owner: 'svc-a',
      records: records(2),
    };
    await server.stop();
    const error = await rejectsWith(spool.append(input), 'ERR_REDIS_UNAVAILABLE');
    assert.equal(error.status, 503);
    assert.equal(error.headers['Retry-After'], '1');
    await rejectsWith(
      spool.receipt(randomUUID(), { owner: 'svc-a', operator: false }),
      'ERR_REDIS_UNAVAILABLE',
    );
    await server.start();
    await whenReady(redis, 10_000);
    const { receiptId } = await spool.append(input);
    assert.equal(
      (await spool.receipt(receiptId, { owner: 'svc-a', operator: false }))?.status,
      'pending',
    );
  });
});

describe('spool on Redis Cluster', () => {
  const db = useTestRedis({ cluster: true });

  it('the receipt and the entries live in different slots, so the append writes them in two steps', async () => {
    const { spool, keys, keyPrefix } = spoolUnderTest(db.redis, { maxEntries: 4, receiptTtlS: 60 });
    const target = { disStream: 'dis-cluster', logicalStream: 'c', owner: 'svc-a' };
    const { receiptId } = await spool.append({ ...target, records: records(3) });
    await assert.rejects(
      db.redis.eval('return 1', 2, keys.stream('dis-cluster'), keys.receipt(receiptId)),
      /CROSSSLOT|same slot/,
    );
    assert.equal(await db.redis.xlen(keys.stream('dis-cluster')), 3);
    const receipt = await spool.receipt(receiptId, { owner: 'svc-a', operator: false });
    assert.equal(receipt?.records.length, 3);
    await rejectsWith(spool.append({ ...target, records: records(2) }), 'ERR_SPOOL_FULL');
    // The refused append's receipt was removed again: only the first one is left.
    assert.equal((await db.redis.keys(`${keyPrefix}receipt:*`)).length, 1);
  });
});

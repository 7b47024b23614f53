import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { whenReady } from '../../src/redis/connect.ts';
import { createForwarder, type ForwarderOptions } from '../../src/spool/forwarder.ts';
import type { Spool } from '../../src/spool/spool.ts';
import {
  startClientAndEmulator,
  uniqueStreamName,
  type ClientAndEmulator,
} from '../helpers/dis-fixtures.ts';
import { startTestRedis, useTestRedis } from '../helpers/redis-fixture.ts';
import { testReplicaAcks } from '../helpers/redis-server.ts';
import { spoolUnderTest } from '../helpers/spool-fixture.ts';
import { waitFor } from '../helpers/wait.ts';

/** One Redis, one emulator; every test has its own DIS stream and key prefix. */
function useRig(options: { cluster?: boolean } = {}) {
  const db = useTestRedis({ cluster: options.cluster === true });
  let dis: ClientAndEmulator | undefined;
  const rig = {
    get redis() {
      return db.redis;
    },
    get dis() {
      if (dis === undefined) throw new Error('useRig: read before its before hook ran');
      return dis;
    },
  };
  const running: { stop(): Promise<void> }[] = [];
  before(async () => {
    dis = await startClientAndEmulator();
  });
  afterEach(async () => {
    rig.dis.emulator.faults.clear();
    await Promise.all(running.splice(0).map((f) => f.stop()));
  });
  after(() => dis?.close());

  const setup = async () => {
    const disStream = uniqueStreamName('takeover');
    await rig.dis.management.createStream({ stream_name: disStream, partition_count: 2 });
    const { spool, keys, keyPrefix } = spoolUnderTest(rig.redis);
    const forward = (overrides: Partial<ForwarderOptions> = {}) => {
      const forwarder = createForwarder({
        redis: rig.redis,
        acks: testReplicaAcks(rig.redis),
        client: rig.dis.client,
        streams: [{ disStream }],
        consumer: `c-${randomUUID()}`,
        batchSize: 20,
        blockMs: 50,
        claimIdleMs: 60_000,
        retryInitialMs: 10,
        retryMaxMs: 100,
        putTimeoutMs: 2000,
        deadLetterMaxEntries: 1000,
        receiptTtlS: 3600,
        now: Date.now,
        keyPrefix,
        ...overrides,
      });
      forwarder.start();
      running.push(forwarder);
      return forwarder;
    };
    const append = async (count: number, tag: string) => {
      const data = Array.from({ length: count }, (_, i) => `${disStream}-${tag}-${i}`);
      const { receiptId } = await spool.append({
        disStream,
        logicalStream: 'logical',
        owner: 'svc-a',
        records: data.map((d) => ({ data: Buffer.from(d) })),
      });
      return { receiptId, data };
    };
    const stored = (): string[] =>
      rig.dis.emulator.state
        .records(disStream)
        .flatMap((p) => p.records.map((r) => r.data.toString()));
    return { disStream, spool, keys, forward, append, stored };
  };
  return { rig, setup };
}

const written = (spool: Spool, ids: readonly string[]) =>
  waitFor('receipts written', async () => {
    const receipts = await Promise.all(
      ids.map((id) => spool.receipt(id, { owner: 'svc-a', operator: false })),
    );
    return receipts.every((r) => r?.status === 'written') ? receipts : undefined;
  });

describe('forwarders on several instances', () => {
  const { rig, setup } = useRig();

  it('two forwarders share a stream’s work and no record is written twice', async () => {
    const { spool, forward, append, stored } = await setup();
    // Slow answers keep one forwarder busy while the other reads the next entries.
    rig.dis.emulator.faults.setLatency(30);
    const work = { a: 0, b: 0 };
    forward({ batchSize: 5, events: { written: (n) => (work.a += n) } });
    forward({ batchSize: 5, events: { written: (n) => (work.b += n) } });
    const appended = [];
    for (let i = 0; i < 20; i += 1) {
      appended.push(await append(5, `batch${i}`));
      await sleep(5);
    }
    await written(
      spool,
      appended.map((a) => a.receiptId),
    );
    // Receipts are updated just before the acknowledgement and the event.
    await waitFor('both forwarders to report', () => (work.a + work.b >= 100 ? true : undefined));
    const sent = appended.flatMap((a) => a.data);
    assert.deepEqual(stored().sort(), [...sent].sort());
    assert.equal(work.a + work.b, 100);
    assert.ok(work.a > 0 && work.b > 0, `both forwarders worked: ${JSON.stringify(work)}`);
  });

  it('entries read by an instance that died are claimed by another after claimIdleMs and written', async () => {
    const { spool, keys, disStream, forward, append, stored } = await setup();
    const first = await append(4, 'first');
    const second = await append(3, 'second');
    // The dead instance: read everything as its consumer and never acknowledge.
    await rig.redis.xgroup('CREATE', keys.stream(disStream), 'forwarders', '0');
    const read = await rig.redis.xreadgroup(
      'GROUP',
      'forwarders',
      'dead',
      'COUNT',
      100,
      'STREAMS',
      keys.stream(disStream),
      '>',
    );
    assert.ok(read !== null);
    let claimed = 0;
    forward({ claimIdleMs: 200, events: { claimed: (n) => (claimed += n) } });
    await written(spool, [first.receiptId, second.receiptId]);
    assert.deepEqual(stored().sort(), [...first.data, ...second.data].sort());
    assert.equal(claimed, 7, 'each taken-over record counts as a possible duplicate');
    const pending = await rig.redis.xpending(keys.stream(disStream), 'forwarders');
    assert.equal(pending[0], 0);
  });

  it('stop lets the batch in flight finish and acknowledge; what comes later waits for another instance', async () => {
    const { spool, keys, disStream, forward, append, stored } = await setup();
    rig.dis.emulator.faults.setLatency(300);
    const forwarder = forward();
    const disStats = rig.dis.emulator.state.stats;
    const requestsBefore = disStats.requests.PutRecords ?? 0;
    const callsBefore = disStats.putRecordsCalls;
    const inFlight = await append(3, 'in-flight');
    await waitFor('the batch to reach DIS', () =>
      (disStats.requests.PutRecords ?? 0) > requestsBefore ? true : undefined,
    );
    await forwarder.stop();
    assert.equal(disStats.putRecordsCalls, callsBefore + 1, 'the slow answer was waited for');
    assert.deepEqual(stored().sort(), [...inFlight.data].sort());
    const [receipt] = await Promise.all([
      spool.receipt(inFlight.receiptId, { owner: 'svc-a', operator: false }),
    ]);
    assert.equal(receipt?.status, 'written');
    const later = await append(2, 'later');
    await sleep(200);
    const [stats] = await spool.stats([disStream]);
    assert.deepEqual(stats && [stats.depth, stats.pending], [2, 0]);
    const consumers = await rig.redis.xinfo('CONSUMERS', keys.stream(disStream), 'forwarders');
    assert.deepEqual(consumers, [], 'a stopped forwarder with nothing pending leaves the group');
    rig.dis.emulator.faults.setLatency(0);
    forward();
    await written(spool, [later.receiptId]);
  });
});

describe('forwarder through a Redis restart', () => {
  it('keeps going after Redis comes back empty: it recreates its group and delivers new entries', async (t) => {
    const { server, redis } = await startTestRedis(t);
    const dis = await startClientAndEmulator();
    const errors: unknown[] = [];
    const forwarder = createForwarder({
      redis,
      acks: testReplicaAcks(redis),
      client: dis.client,
      streams: [{ disStream: 'dis-restart' }],
      consumer: 'c-restart',
      batchSize: 20,
      blockMs: 50,
      claimIdleMs: 60_000,
      retryInitialMs: 10,
      retryMaxMs: 100,
      putTimeoutMs: 1000,
      deadLetterMaxEntries: 100,
      receiptTtlS: 60,
      now: Date.now,
      keyPrefix: 't:',
      events: { error: (e) => errors.push(e) },
    });
    try {
      await dis.management.createStream({ stream_name: 'dis-restart', partition_count: 1 });
      // The forwarder above reads the same keys.
      const { spool } = spoolUnderTest(redis, {
        maxEntries: 100,
        receiptTtlS: 60,
        keyPrefix: 't:',
      });
      forwarder.start();
      await server.stop();
      await waitFor('errors while Redis is down', () => (errors.length > 0 ? true : undefined));
      await server.start();
      await whenReady(redis, 10_000);
      const { receiptId } = await spool.append({
        disStream: 'dis-restart',
        logicalStream: 'r',
        owner: 'svc-a',
        records: [{ data: Buffer.from('after-restart') }],
      });
      await written(spool, [receiptId]);
      const records = dis.emulator.state.records('dis-restart').flatMap((p) => p.records);
      assert.deepEqual(
        records.map((r) => r.data.toString()),
        ['after-restart'],
      );
    } finally {
      await forwarder.stop();
      await dis.close();
    }
  });
});

describe('forwarder on Redis Cluster', () => {
  const { setup } = useRig({ cluster: true });

  it('appends and forwarding work when receipts and spool streams live in different slots', async () => {
    const { spool, forward, append, stored } = await setup();
    forward();
    const a = await append(5, 'a');
    const b = await append(5, 'b');
    const receipts = await written(spool, [a.receiptId, b.receiptId]);
    assert.equal(receipts.flatMap((r) => r?.records ?? []).length, 10);
    assert.deepEqual(stored().sort(), [...a.data, ...b.data].sort());
  });
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DisClient } from '../../src/dis/client.ts';
import { createForwarder, type ForwarderOptions } from '../../src/spool/forwarder.ts';
import type { Receipt } from '../../src/spool/receipt.ts';
import type { Spool } from '../../src/spool/spool.ts';
import {
  seededRandom,
  startClientAndEmulator,
  uniqueStreamName,
  type ClientAndEmulator,
} from '../helpers/dis-fixtures.ts';
import { useTestRedis } from '../helpers/redis-fixture.ts';
import { testReplicaAcks } from '../helpers/redis-server.ts';
import { spoolUnderTest } from '../helpers/spool-fixture.ts';
import { waitFor } from '../helpers/wait.ts';

/** Counts of what the forwarder reported. */
function counters() {
  const counts = { written: 0, retried: 0, deadLettered: 0, claimed: 0, errors: 0 };
  const events: NonNullable<ForwarderOptions['events']> = {
    written: (n) => (counts.written += n),
    retried: (n) => (counts.retried += n),
    deadLettered: (n) => (counts.deadLettered += n),
    claimed: (n) => (counts.claimed += n),
    error: () => (counts.errors += 1),
  };
  return { counts, events };
}

describe('forwarder: spool to DIS', () => {
  const db = useTestRedis();
  let dis: ClientAndEmulator;
  before(async () => {
    dis = await startClientAndEmulator({ random: seededRandom(7) });
  });
  // Stopped after each test even when it fails, so no loop outlives its test.
  const running: { stop(): Promise<void> }[] = [];
  afterEach(async () => {
    dis.emulator.faults.clear();
    await Promise.all(running.splice(0).map((f) => f.stop()));
  });
  after(() => dis.close());

  /** A DIS stream in the emulator, a spool and forwarder settings of its own. */
  const setup = async (partitions = 2) => {
    const disStream = uniqueStreamName('spool');
    await dis.management.createStream({ stream_name: disStream, partition_count: partitions });
    const { spool, keys, keyPrefix } = spoolUnderTest(db.redis);
    const forwarders: { stop(): Promise<void> }[] = [];
    const forward = (overrides: Partial<ForwarderOptions> = {}, client: DisClient = dis.client) => {
      const forwarder = createForwarder({
        redis: db.redis,
        acks: testReplicaAcks(db.redis),
        client,
        streams: [{ disStream }],
        consumer: `c-${randomUUID()}`,
        batchSize: 50,
        blockMs: 50,
        claimIdleMs: 60_000,
        retryInitialMs: 10,
        retryMaxMs: 100,
        putTimeoutMs: 500,
        deadLetterMaxEntries: 1000,
        receiptTtlS: 3600,
        now: Date.now,
        random: seededRandom(11),
        keyPrefix,
        ...overrides,
      });
      forwarder.start();
      forwarders.push(forwarder);
      running.push(forwarder);
      return forwarder;
    };
    const stopAll = () => Promise.all(forwarders.map((f) => f.stop()));
    return { disStream, spool, keys, forward, stopAll };
  };

  /** Every record DIS holds for the stream, as text, across partitions. */
  const stored = (disStream: string): string[] =>
    dis.emulator.state.records(disStream).flatMap((p) => p.records.map((r) => r.data.toString()));

  const appendMany = async (
    spool: Spool,
    disStream: string,
    batches: number,
    size: number,
    key?: string,
  ) => {
    const ids: string[] = [];
    const sent: string[] = [];
    for (let b = 0; b < batches; b += 1) {
      const data = Array.from({ length: size }, (_, i) => `${disStream}-${b}-${i}`);
      sent.push(...data);
      const { receiptId } = await spool.append({
        disStream,
        logicalStream: 'logical',
        owner: 'svc-a',
        records: data.map((d, i) => ({ data: Buffer.from(d), partitionKey: key ?? `k-${b}-${i}` })),
      });
      ids.push(receiptId);
    }
    return { ids, sent };
  };

  const receiptsOf = (spool: Spool, ids: readonly string[]) =>
    Promise.all(ids.map((id) => spool.receipt(id, { owner: 'svc-a', operator: false })));

  const allSettled = (spool: Spool, ids: readonly string[], status: Receipt['status']) =>
    waitFor(`receipts ${status}`, async () => {
      const receipts = await receiptsOf(spool, ids);
      return receipts.every((r) => r?.status === status) ? receipts : undefined;
    });

  it('appended records reach DIS exactly once and each receipt turns written with partition and sequence', async () => {
    const { disStream, spool, keys, forward, stopAll } = await setup();
    const { counts, events } = counters();
    forward({ events });
    const { ids, sent } = await appendMany(spool, disStream, 4, 5);
    const receipts = await allSettled(spool, ids, 'written');
    await stopAll();

    assert.deepEqual(stored(disStream).sort(), [...sent].sort());
    assert.equal(counts.written, 20);
    const partitions = dis.emulator.state.records(disStream);
    for (const [b, receipt] of receipts.entries()) {
      receipt?.records.forEach((record, i) => {
        assert.equal(record.status, 'written');
        const partition = partitions.find((p) => p.partitionId === record.partition_id);
        const found = partition?.records.find(
          (r) => String(r.sequenceNumber) === record.sequence_number,
        );
        assert.equal(
          found?.data.toString(),
          `${disStream}-${b}-${i}`,
          'the receipt points at its record',
        );
      });
    }
    const [stats] = await spool.stats([disStream]);
    assert.deepEqual(stats && [stats.depth, stats.pending, stats.deadLetters], [0, 0, 0]);
    assert.equal(await db.redis.xlen(keys.deadLetter(disStream)), 0);
    // Accepted with a 600 s TTL, kept for the forwarder's 3600 s after the outcome.
    const ttl = await db.redis.pttl(keys.receipt(ids[0] ?? ''));
    assert.ok(ttl > 600_000 && ttl <= 3_600_000, `receipt TTL ${ttl}`);
  });

  it('records with one partition key arrive in DIS in the order they were appended', async () => {
    const { disStream, spool, forward, stopAll } = await setup(3);
    forward({ batchSize: 7 });
    const { ids, sent } = await appendMany(spool, disStream, 25, 3, 'same-key');
    await allSettled(spool, ids, 'written');
    await stopAll();
    const partitions = dis.emulator.state.records(disStream).filter((p) => p.records.length > 0);
    assert.equal(partitions.length, 1);
    assert.deepEqual(
      partitions[0]?.records.map((r) => r.data.toString()),
      sent,
    );
  });

  it('while DIS answers 503, entries stay pending and unacknowledged; once it recovers each is written exactly once', async () => {
    const { disStream, spool, forward, stopAll } = await setup();
    const { counts, events } = counters();
    dis.emulator.faults.failNext({
      count: 100_000,
      status: 503,
      operation: 'PutRecords',
      code: 'DIS.5000',
    });
    try {
      forward({ events, putTimeoutMs: 150 });
      const { ids, sent } = await appendMany(spool, disStream, 6, 4);
      await waitFor('retries while DIS is down', () => (counts.retried >= 24 ? true : undefined));
      const [stats] = await spool.stats([disStream]);
      assert.equal(stats?.depth, 24, 'nothing was acknowledged');
      assert.equal(stats.pending, 24);
      assert.deepEqual(stored(disStream), []);
      assert.ok((await receiptsOf(spool, ids)).every((r) => r?.status === 'pending'));

      dis.emulator.faults.clear();
      await allSettled(spool, ids, 'written');
      await stopAll();
      assert.deepEqual(stored(disStream).sort(), [...sent].sort());
      const [after] = await spool.stats([disStream]);
      assert.deepEqual(after && [after.depth, after.pending], [0, 0]);
    } finally {
      dis.emulator.faults.clear();
      await stopAll();
    }
  });

  it('when DIS throttles half the records, the forwarder keeps resending until every one is written once', async () => {
    const { disStream, spool, forward, stopAll } = await setup();
    dis.emulator.faults.failRecords({
      share: 0.5,
      errorCode: 'DIS.4303',
      errorMessage: 'Exceeded traffic control limit.',
    });
    const { counts, events } = counters();
    try {
      // A deadline too short for a second attempt leaves throttled records to the forwarder's own
      // retries rather than the client's.
      forward({ events, putTimeoutMs: 40 });
      const { ids, sent } = await appendMany(spool, disStream, 5, 10);
      await allSettled(spool, ids, 'written');
      await stopAll();
      assert.deepEqual(stored(disStream).sort(), [...sent].sort());
      assert.ok(counts.retried > 0, 'throttled records were resent by the forwarder');
    } finally {
      dis.emulator.faults.clear();
      await stopAll();
    }
  });

  it('records DIS refuses for good go to the dead-letter stream with the reason, and the receipt says dead_lettered', async () => {
    const { disStream, spool, keys, forward, stopAll } = await setup();
    dis.emulator.faults.failRecords({
      share: 1,
      errorCode: 'DIS.4302',
      errorMessage: 'Partition does not exist.',
    });
    const { counts, events } = counters();
    try {
      forward({ events });
      const { ids } = await appendMany(spool, disStream, 1, 3);
      const [receipt] = await allSettled(spool, ids, 'dead_lettered');
      await stopAll();
      assert.deepEqual(
        receipt?.records,
        Array.from({ length: 3 }, () => ({
          status: 'dead_lettered',
          error_code: 'DIS.4302',
          error_message: 'Partition does not exist.',
        })),
      );
      const letters = await db.redis.xrange(keys.deadLetter(disStream), '-', '+');
      const fields = letters.map(([, f]) =>
        Object.fromEntries(f.flatMap((v, i) => (i % 2 === 0 ? [[v, f[i + 1]]] : []))),
      );
      assert.deepEqual(
        fields.map((f) => [f.data, f.receipt, f.error_code, f.error_message]),
        [0, 1, 2].map((i) => [
          `${disStream}-0-${i}`,
          ids[0],
          'DIS.4302',
          'Partition does not exist.',
        ]),
      );
      assert.ok(
        fields.every((f) => typeof f.failed_at === 'string' && typeof f.entry_id === 'string'),
      );
      const [stats] = await spool.stats([disStream]);
      assert.deepEqual(stats && [stats.depth, stats.pending, stats.deadLetters], [0, 0, 3]);
      assert.equal(counts.deadLettered, 3);
      assert.deepEqual(stored(disStream), []);
    } finally {
      dis.emulator.faults.clear();
      await stopAll();
    }
  });

  it('when DIS refuses the gateway’s credentials, nothing is dead-lettered: the entries wait for a working client', async () => {
    const { disStream, spool, keys, forward, stopAll } = await setup();
    const badClient = dis.clientWith({
      auth: { type: 'aksk', credentials: { ak: 'EMULATORDEVAK0000001', sk: 'not-the-secret' } },
      breaker: { failureThreshold: 2, coolDownMs: 60_000 },
    });
    const { counts, events } = counters();
    forward({ events }, badClient);
    const { ids, sent } = await appendMany(spool, disStream, 2, 3);
    await waitFor('the breaker to open', () =>
      badClient.breakerState() === 'open' ? true : undefined,
    );
    await sleep(200);
    assert.equal(await db.redis.xlen(keys.deadLetter(disStream)), 0);
    assert.equal(counts.deadLettered, 0);
    assert.equal(await db.redis.xlen(keys.stream(disStream)), 6);
    assert.ok((await receiptsOf(spool, ids)).every((r) => r?.status === 'pending'));
    await stopAll();

    // A forwarder with good credentials takes over what the stopped one still held.
    forward({ claimIdleMs: 100 });
    await allSettled(spool, ids, 'written');
    await stopAll();
    assert.deepEqual(stored(disStream).sort(), [...sent].sort());
  });
});

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { PutRecordsRequestEntry } from '../../src/dis/wire.ts';
import { MAX_HASH_KEY, parsePartitionId, toShardId } from '../../src/dis/wire.ts';
import {
  startClientAndEmulator,
  uniqueStreamName,
  type ClientAndEmulator,
} from '../helpers/dis-fixtures.ts';

function hashRangeOf(range: string): [bigint, bigint] {
  const m = /^\[(\d+) : (\d+)\]$/.exec(range);
  assert.ok(m?.[1] !== undefined && m[2] !== undefined, `bad hash range ${range}`);
  return [BigInt(m[1]), BigInt(m[2])];
}

describe('round trip through the client and the emulator', () => {
  let env: ClientAndEmulator;
  before(async () => {
    env = await startClientAndEmulator();
  });
  after(() => env.close());

  it('1,000 records mixing keys, partition ids and hash keys come back byte for byte, numbered consecutively per partition', async (t) => {
    const { client, management } = env;
    const stream = uniqueStreamName('round-trip');
    await management.createStream({ stream_name: stream, partition_count: 3 });
    const described = await management.describeStream(stream);
    assert.equal(described.status, 'RUNNING');
    assert.deepEqual(
      described.partitions.map((p) => p.partition_id),
      [0, 1, 2].map(toShardId),
    );
    const ranges = described.partitions.map((p) => hashRangeOf(p.hash_range));
    assert.equal(ranges[0]?.[0], 0n);
    assert.equal(ranges[2]?.[1], MAX_HASH_KEY);

    const entries: PutRecordsRequestEntry[] = [];
    for (let i = 0; i < 1000; i++) {
      // Sizes from 1 byte to ~3 KiB, binary content, and a unique prefix to identify each record.
      const data = Buffer.concat([Buffer.from(`#${i}#`), randomBytes(i % 7 === 0 ? 3000 : i % 50)]);
      const entry: PutRecordsRequestEntry = { data: data.toString('base64') };
      switch (i % 5) {
        case 0:
          entry.partition_key = `user-${i % 37}`;
          break;
        case 1:
          entry.partition_id = String(i % 3);
          break;
        case 2:
          entry.partition_id = toShardId(i % 3);
          break;
        case 3:
          entry.explicit_hash_key = String((MAX_HASH_KEY / 1000n) * BigInt(i));
          break;
        default:
          break; // no key at all: DIS picks a partition
      }
      entries.push(entry);
    }

    const started = performance.now();
    const outcome = await client.putRecords({
      streamName: stream,
      records: entries,
      deadline: Date.now() + 10_000,
    });
    const putMs = performance.now() - started;
    assert.equal(
      outcome.failedCount,
      0,
      JSON.stringify(outcome.verdicts.find((v) => v.status === 'failed')),
    );
    assert.equal(outcome.requests, 2, '1,000 records go as two requests of 500');

    // Where each record went, as the verdicts say.
    outcome.verdicts.forEach((verdict, i) => {
      assert.equal(verdict.status, 'ok');
      const entry = entries[i];
      assert.ok(entry !== undefined);
      const partition = parsePartitionId(verdict.partitionId);
      assert.ok(partition !== undefined, verdict.partitionId);
      if (entry.partition_id !== undefined) {
        assert.equal(
          partition,
          parsePartitionId(entry.partition_id),
          `record ${i} by partition id`,
        );
      }
      if (entry.explicit_hash_key !== undefined) {
        const [lo, hi] = ranges[partition] ?? [0n, 0n];
        const hash = BigInt(entry.explicit_hash_key);
        assert.ok(
          hash >= lo && hash <= hi,
          `record ${i}: hash ${hash} outside partition ${partition}`,
        );
      }
    });

    // Read every partition back with cursors.
    const readStarted = performance.now();
    let total = 0;
    for (const partition of described.partitions) {
      let cursor = await management.getCursor({
        streamName: stream,
        partitionId: partition.partition_id,
        cursorType: 'TRIM_HORIZON',
      });
      const read: { sequence_number: string; data: string }[] = [];
      for (;;) {
        const page = await management.getRecords(cursor, { maxFetchBytes: 64 * 1024 });
        read.push(...page.records);
        cursor = page.next_partition_cursor;
        if (page.records.length === 0) break;
      }
      read.forEach((record, k) => {
        assert.equal(record.sequence_number, String(k), 'consecutive from 0');
      });
      const expected = outcome.verdicts
        .map((v, i) => ({ v, i }))
        .filter(({ v }) => v.status === 'ok' && v.partitionId === partition.partition_id);
      assert.equal(read.length, expected.length, `count in ${partition.partition_id}`);
      const bySequence = new Map(read.map((r) => [r.sequence_number, r.data]));
      for (const { v, i } of expected) {
        assert.ok(v.status === 'ok');
        assert.equal(bySequence.get(v.sequenceNumber), entries[i]?.data, `bytes of record ${i}`);
      }
      total += read.length;
    }
    const readMs = performance.now() - readStarted;
    assert.equal(total, 1000);
    t.diagnostic(
      `round trip: put 1000 records in ${putMs.toFixed(1)} ms (${outcome.requests} requests), read back in ${readMs.toFixed(1)} ms`,
    );

    const listed = await management.listStreams({ limit: 100 });
    assert.ok(listed.stream_names.includes(stream));
    await management.deleteStream(stream);
    const afterDelete = await client.putRecords({
      streamName: stream,
      records: entries.slice(0, 1),
      deadline: Date.now() + 2000,
    });
    assert.deepEqual(afterDelete.verdicts[0], {
      status: 'failed',
      errorCode: 'DIS.4301',
      errorMessage:
        afterDelete.verdicts[0]?.status === 'failed' ? afterDelete.verdicts[0].errorMessage : '',
      retryable: false,
      origin: 'request',
    });
  });

  it('splits one call by the byte limit and keeps the caller order across concurrent requests', async () => {
    const stream = uniqueStreamName('chunks');
    await env.management.createStream({
      stream_name: stream,
      partition_count: 4,
      stream_type: 'ADVANCED',
    });
    const client = env.clientWith({
      limits: {
        maxRecordsPerRequest: 500,
        maxBytesPerRequest: 64 * 1024,
        maxConcurrentRequests: 3,
      },
    });
    const entries = Array.from({ length: 300 }, (_, i) => ({
      data: Buffer.concat([Buffer.from(`${i}:`), randomBytes(1000)]).toString('base64'),
      partition_id: String(i % 4),
    }));
    const outcome = await client.putRecords({
      streamName: stream,
      records: entries,
      deadline: Date.now() + 10_000,
    });
    assert.equal(outcome.failedCount, 0);
    assert.ok(outcome.requests >= 5, `expected several requests, got ${outcome.requests}`);
    const stored = env.emulator.state.records(stream);
    outcome.verdicts.forEach((v, i) => {
      assert.ok(v.status === 'ok');
      assert.equal(v.partitionId, toShardId(i % 4));
      const record = stored[i % 4]?.records.find(
        (r) => String(r.sequenceNumber) === v.sequenceNumber,
      );
      assert.equal(record?.data.toString('base64'), entries[i]?.data, `record ${i}`);
    });
  });
});

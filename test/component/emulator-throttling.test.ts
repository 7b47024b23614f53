import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { b64, startEmulator } from '../helpers/emulator-harness.ts';
import type { Harness } from '../helpers/emulator-harness.ts';
import {
  CursorResult,
  PutResult,
  RecordsResult,
  expectBody,
  expectDisError,
} from '../helpers/emulator-wire.ts';

const small = (n: number, partition = '0') =>
  Array.from({ length: n }, (_, i) => ({ data: b64(`r${i}`), partition_id: partition }));

describe('emulator per-partition write limits', () => {
  let h: Harness;

  before(async () => {
    h = await startEmulator({
      maxRecordsPerRequest: 5000,
      streams: [
        { name: 'thr-common', partitions: 1 },
        { name: 'thr-bytes', partitions: 1 },
        { name: 'thr-adv', partitions: 1, type: 'ADVANCED' },
        { name: 'thr-two', partitions: 2 },
      ],
    });
  });
  after(() => h.close());

  const put = async (stream: string, records: unknown[]) =>
    expectBody(await h.dis('/records', { body: { stream_name: stream, records } }), 200, PutResult);

  it("when a partition's write limit is exceeded, the extra records fail with DIS.4303 inside a 200", async () => {
    const result = await put('thr-common', small(1001));
    assert.equal(result.failed_record_count, 1);
    assert.deepEqual(result.records[1000], {
      error_code: 'DIS.4303',
      error_message: 'Exceeded traffic control limit.',
    });
    assert.equal(result.records[999]?.sequence_number, '999');
    assert.equal(h.emulator.state.records('thr-common')[0]?.records.length, 1000);
    assert.equal(h.emulator.state.stats.recordsFailed['DIS.4303'], 1);

    h.clock.advance(1000);
    const later = await put('thr-common', small(2));
    assert.deepEqual(
      later.records.map((r) => r.sequence_number),
      ['1000', '1001'],
    );
  });

  it('when a COMMON partition gets more than 1 MiB in a second, the bytes limit throttles', async () => {
    const big = b64(Buffer.alloc(600 * 1024));
    const result = await put('thr-bytes', [{ data: big }, { data: big }]);
    assert.deepEqual(
      result.records.map((r) => r.error_code),
      [undefined, 'DIS.4303'],
    );
  });

  it('when the stream is ADVANCED, 2000 records a second pass and the 2001st does not', async () => {
    const result = await put('thr-adv', small(2001));
    assert.equal(result.failed_record_count, 1);
    assert.equal(result.records[2000]?.error_code, 'DIS.4303');
  });

  it('when one partition is exhausted, another partition of the same stream still accepts', async () => {
    const result = await put('thr-two', [...small(1001, '0'), ...small(1, '1')]);
    assert.equal(result.failed_record_count, 1);
    assert.deepEqual(result.records.at(-1), {
      partition_id: 'shardId-0000000001',
      sequence_number: '0',
    });
  });
});

describe('emulator with throttling off', () => {
  let h: Harness;
  before(async () => {
    h = await startEmulator({ throttling: false, streams: [{ name: 'free', partitions: 1 }] });
  });
  after(() => h.close());

  it('when throttling is off, 1001 records in one second all succeed', async () => {
    const res = await h.dis('/records', { body: { stream_name: 'free', records: small(1000) } });
    assert.equal(expectBody(res, 200, PutResult).failed_record_count, 0);
    const more = await h.dis('/records', { body: { stream_name: 'free', records: small(1) } });
    assert.equal(expectBody(more, 200, PutResult).failed_record_count, 0);
  });
});

describe('emulator retention', () => {
  let h: Harness;
  before(async () => {
    h = await startEmulator({
      retention: { maxRecordsPerPartition: 3, maxAgeMs: 60_000 },
      streams: [
        { name: 'ret-count', partitions: 1 },
        { name: 'ret-age', partitions: 1 },
      ],
    });
  });
  after(() => h.close());

  const cursorAt = async (stream: string, type: string, extra = '') =>
    h.dis(`/cursors?stream-name=${stream}&partition-id=0&cursor-type=${type}${extra}`);

  it('when a partition holds more than maxRecordsPerPartition, the oldest are dropped and TRIM_HORIZON moves up', async () => {
    const early = expectBody(await cursorAt('ret-count', 'TRIM_HORIZON'), 200, CursorResult);
    await h.dis('/records', { body: { stream_name: 'ret-count', records: small(5) } });
    const kept = h.emulator.state.records('ret-count')[0]?.records.map((r) => r.sequenceNumber);
    assert.deepEqual(kept, [2n, 3n, 4n]);
    assert.match((await h.dis('/streams/ret-count')).text, /"sequence_number_range":"\[2 : 4\]"/);

    const trim = expectBody(await cursorAt('ret-count', 'TRIM_HORIZON'), 200, CursorResult);
    const read = await h.dis(
      `/records?partition-cursor=${encodeURIComponent(trim.partition_cursor)}`,
    );
    assert.deepEqual(
      expectBody(read, 200, RecordsResult).records.map((r) => r.sequence_number),
      ['2', '3', '4'],
    );
    expectDisError(
      await cursorAt('ret-count', 'AT_SEQUENCE_NUMBER', '&starting-sequence-number=1'),
      400,
      'DIS.4224',
    );
    const stale = await h.dis(
      `/records?partition-cursor=${encodeURIComponent(early.partition_cursor)}`,
    );
    expectDisError(stale, 400, 'DIS.4226');
  });

  it('when records are older than maxAgeMs, they are dropped and the range is empty', async () => {
    await h.dis('/records', { body: { stream_name: 'ret-age', records: small(2) } });
    h.clock.advance(60_001);
    assert.deepEqual(h.emulator.state.records('ret-age')[0]?.records, []);
    assert.match((await h.dis('/streams/ret-age')).text, /"sequence_number_range":"\[2 : 1\]"/);
    const res = await h.dis('/records', { body: { stream_name: 'ret-age', records: small(1) } });
    assert.equal(expectBody(res, 200, PutResult).records[0]?.sequence_number, '2');
  });
});

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
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

describe('emulator PutRecords, cursors and GetRecords', () => {
  let h: Harness;

  before(async () => {
    h = await startEmulator({
      streams: [1, 2, 3, 4].map((n) => ({
        name: `rt-${n}`,
        partitions: n,
        type: 'ADVANCED' as const,
      })),
    });
  });
  after(() => h.close());

  async function put(stream: string, records: unknown[]) {
    return expectBody(
      await h.dis('/records/', { body: { stream_name: stream, records } }),
      200,
      PutResult,
    );
  }

  async function cursor(stream: string, partition: string, type: string, extra = '') {
    const res = await h.dis(
      `/cursors?stream-name=${stream}&partition-id=${partition}&cursor-type=${type}${extra}`,
    );
    return expectBody(res, 200, CursorResult).partition_cursor;
  }

  async function read(partitionCursor: string, extra = '') {
    const res = await h.dis(
      `/records?partition-cursor=${encodeURIComponent(partitionCursor)}${extra}`,
    );
    return expectBody(res, 200, RecordsResult);
  }

  it('when partition_id is given in either form, the record goes to that partition', async () => {
    const result = await put('rt-4', [
      { data: b64('a'), partition_id: '2' },
      { data: b64('b'), partition_id: 'shardId-0000000003' },
      { data: b64('c'), partition_id: 'shardId-0000000001', partition_key: 'user-42' },
    ]);
    assert.deepEqual(
      result.records.map((r) => r.partition_id),
      ['shardId-0000000002', 'shardId-0000000003', 'shardId-0000000001'],
    );
  });

  it('when explicit_hash_key is given, it picks the range that holds it, over partition_key', async () => {
    const result = await put('rt-4', [
      { data: b64('a'), explicit_hash_key: '0', partition_key: 'user-42' },
      { data: b64('b'), explicit_hash_key: '9223372036854775807' },
      { data: b64('c'), explicit_hash_key: '4611686018427387903' },
    ]);
    assert.deepEqual(
      result.records.map((r) => r.partition_id),
      ['shardId-0000000000', 'shardId-0000000003', 'shardId-0000000002'],
    );
  });

  it('when only partition_key is given, the MD5 rule of dis-api §4 picks the partition on 1..4 partitions', async () => {
    const expected: Record<string, number[]> = {
      'user-42': [0, 1, 2, 3],
      '0': [0, 1, 1, 2],
      abc: [0, 0, 0, 0],
    };
    for (const [key, indexes] of Object.entries(expected)) {
      for (const n of [1, 2, 3, 4]) {
        const result = await put(`rt-${n}`, [{ data: b64(key), partition_key: key }]);
        assert.equal(
          result.records[0]?.partition_id,
          `shardId-000000000${indexes[n - 1] ?? '?'}`,
          `${key} on ${n}`,
        );
      }
    }
  });

  it('when records are written, sequence numbers are consecutive per partition and results keep request order', async () => {
    await h.dis('/streams', { body: { stream_name: 'seq-2', partition_count: 2 } });
    const first = await put('seq-2', [
      { data: b64('p0-a'), partition_id: '0' },
      { data: b64('p1-a'), partition_id: '1' },
      { data: b64('p0-b'), partition_id: '0' },
      { data: b64('p0-c'), partition_id: '0' },
      { data: b64('p1-b'), partition_id: '1' },
    ]);
    assert.deepEqual(first, {
      failed_record_count: 0,
      records: [
        { partition_id: 'shardId-0000000000', sequence_number: '0' },
        { partition_id: 'shardId-0000000001', sequence_number: '0' },
        { partition_id: 'shardId-0000000000', sequence_number: '1' },
        { partition_id: 'shardId-0000000000', sequence_number: '2' },
        { partition_id: 'shardId-0000000001', sequence_number: '1' },
      ],
    });
    const second = await put('seq-2', [{ data: b64('p0-d'), partition_id: '0' }]);
    assert.equal(second.records[0]?.sequence_number, '3');
    const [p0, p1] = h.emulator.state.records('seq-2');
    assert.deepEqual(
      p0?.records.map((r) => [r.sequenceNumber, r.data.toString()]),
      [
        [0n, 'p0-a'],
        [1n, 'p0-b'],
        [2n, 'p0-c'],
        [3n, 'p0-d'],
      ],
    );
    assert.equal(p1?.records.length, 2);
    const described = await h.dis('/streams/seq-2');
    assert.match(described.text, /"sequence_number_range":"\[0 : 3\]"/);
  });

  it('when read back with each of the five cursor types, GetRecords returns the exact bytes from the right place', async () => {
    await h.dis('/streams', { body: { stream_name: 'cur-1', partition_count: 1 } });
    const blobs = [randomBytes(100), Buffer.from([0, 255, 254, 0x2b, 0x2f]), randomBytes(3000)];
    await put('cur-1', [
      { data: b64(blobs[0] ?? Buffer.alloc(0)), partition_key: 'k' },
      { data: b64(blobs[1] ?? Buffer.alloc(0)) },
    ]);
    const t2 = h.clock.now() + 1000;
    h.clock.advance(1000);
    await put('cur-1', [{ data: b64(blobs[2] ?? Buffer.alloc(0)) }]);

    const all = await read(await cursor('cur-1', 'shardId-0000000000', 'TRIM_HORIZON'));
    assert.deepEqual(
      all.records.map((r) => Buffer.from(r.data, 'base64')),
      blobs,
    );
    assert.deepEqual(
      all.records.map((r) => r.sequence_number),
      ['0', '1', '2'],
    );
    assert.equal(all.records[0]?.partition_key, 'k');
    assert.equal('partition_key' in (all.records[1] ?? {}), false);
    assert.deepEqual((await read(all.next_partition_cursor)).records, []);

    const at = await read(
      await cursor('cur-1', '0', 'AT_SEQUENCE_NUMBER', '&starting-sequence-number=1'),
    );
    assert.deepEqual(
      at.records.map((r) => r.sequence_number),
      ['1', '2'],
    );
    const afterOne = await read(
      await cursor('cur-1', '0', 'AFTER_SEQUENCE_NUMBER', '&starting-sequence-number=1'),
    );
    assert.deepEqual(
      afterOne.records.map((r) => r.sequence_number),
      ['2'],
    );
    const byTime = await read(await cursor('cur-1', '0', 'AT_TIMESTAMP', `&timestamp=${t2}`));
    assert.deepEqual(
      byTime.records.map((r) => r.sequence_number),
      ['2'],
    );
    assert.equal(byTime.records[0]?.timestamp, t2);

    const latest = await cursor('cur-1', '0', 'LATEST');
    assert.deepEqual((await read(latest)).records, []);
    await put('cur-1', [{ data: b64('after latest') }]);
    const fresh = await read(latest);
    assert.deepEqual(
      fresh.records.map((r) => Buffer.from(r.data, 'base64').toString()),
      ['after latest'],
    );

    const defaultType = await h.dis(
      '/cursors?stream-name=cur-1&partition-id=0&starting-sequence-number=3',
    );
    assert.equal(defaultType.status, 200);
  });

  it('when max_fetch_bytes is smaller than a record, that record is not returned and the cursor stays', async () => {
    await h.dis('/streams', { body: { stream_name: 'fetch-1', partition_count: 1 } });
    await put('fetch-1', [{ data: b64('1234') }, { data: b64('12345678') }]);
    const start = await cursor('fetch-1', '0', 'TRIM_HORIZON');
    const page = await read(start, '&max_fetch_bytes=6');
    assert.deepEqual(
      page.records.map((r) => r.sequence_number),
      ['0'],
    );
    const stuck = await read(page.next_partition_cursor, '&max_fetch_bytes=6');
    assert.deepEqual(stuck.records, []);
    assert.deepEqual(
      (await read(stuck.next_partition_cursor)).records.map((r) => r.sequence_number),
      ['1'],
    );
  });

  it('when cursor parameters are wrong, get cursor answers DIS.4215/4216/4224/4201/4301', async () => {
    await h.dis('/streams', { body: { stream_name: 'cerr-1', partition_count: 1 } });
    await put('cerr-1', [{ data: b64('x') }]);
    const base = '/cursors?stream-name=cerr-1&partition-id=0';
    expectDisError(await h.dis(`${base}&cursor-type=SOMEWHERE`), 400, 'DIS.4215');
    expectDisError(
      await h.dis(`${base}&cursor-type=AT_SEQUENCE_NUMBER&starting-sequence-number=-1`),
      400,
      'DIS.4216',
    );
    expectDisError(await h.dis(`${base}&cursor-type=AT_SEQUENCE_NUMBER`), 400, 'DIS.4216');
    const message = expectDisError(
      await h.dis(`${base}&cursor-type=AT_SEQUENCE_NUMBER&starting-sequence-number=5`),
      400,
      'DIS.4224',
    );
    assert.match(message, /\[5\]\[ should be within \]\[0\]\[ \]\[1\]/);
    expectDisError(
      await h.dis('/cursors?stream-name=cerr-1&partition-id=zz&cursor-type=LATEST'),
      400,
      'DIS.4201',
    );
    expectDisError(
      await h.dis('/cursors?stream-name=cerr-1&partition-id=1&cursor-type=LATEST'),
      400,
      'DIS.4302',
    );
    expectDisError(
      await h.dis('/cursors?stream-name=nope&partition-id=0&cursor-type=LATEST'),
      400,
      'DIS.4301',
    );
  });

  it('when a cursor is garbage, expired or from a deleted stream, get records answers DIS.4217/4225', async () => {
    await h.dis('/streams', { body: { stream_name: 'cexp-1', partition_count: 1 } });
    expectDisError(await h.dis('/records?partition-cursor=bm90IGEgY3Vyc29y'), 400, 'DIS.4217');
    expectDisError(await h.dis('/records?partition-cursor=%%%'), 400, 'DIS.4217');
    const c = await cursor('cexp-1', '0', 'TRIM_HORIZON');
    h.clock.advance(5 * 60_000 + 1);
    expectDisError(
      await h.dis(`/records?partition-cursor=${encodeURIComponent(c)}`),
      400,
      'DIS.4225',
    );
    await h.dis('/streams/cexp-1', { method: 'DELETE' });
    await h.dis('/streams', { body: { stream_name: 'cexp-1', partition_count: 1 } });
    const stale = await cursor('cexp-1', '0', 'TRIM_HORIZON');
    await h.dis('/streams/cexp-1', { method: 'DELETE' });
    await h.dis('/streams', { body: { stream_name: 'cexp-1', partition_count: 1 } });
    expectDisError(
      await h.dis(`/records?partition-cursor=${encodeURIComponent(stale)}`),
      400,
      'DIS.4217',
    );
  });
});

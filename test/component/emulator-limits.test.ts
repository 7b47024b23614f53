import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { b64, startEmulator } from '../helpers/emulator-harness.ts';
import type { Harness } from '../helpers/emulator-harness.ts';
import { PutResult, expectBody, expectDisError } from '../helpers/emulator-wire.ts';

describe('emulator PutRecords limits', () => {
  let h: Harness;

  before(async () => {
    h = await startEmulator({
      streams: [{ name: 'lim-1', partitions: 2, type: 'ADVANCED' }],
      maxRecordsPerRequest: 10,
    });
  });
  after(() => h.close());

  const putRaw = (body: unknown) => h.dis('/records', { body });

  it('when one record is 1 MiB + 1 byte, the request gets 413 and nothing is stored', async () => {
    const res = await putRaw({
      stream_name: 'lim-1',
      records: [{ data: b64('ok') }, { data: b64(Buffer.alloc(1024 * 1024 + 1)) }],
    });
    expectDisError(res, 413, 'DIS.4200');
    const exact = await putRaw({
      stream_name: 'lim-1',
      records: [{ data: b64(Buffer.alloc(1024 * 1024)) }],
    });
    assert.equal(expectBody(exact, 200, PutResult).failed_record_count, 0);
    assert.equal(h.emulator.state.records('lim-1').flatMap((p) => p.records).length, 1);
  });

  it('when the records add up to more than 5 MiB, the request gets 413', async () => {
    const mib = b64(Buffer.alloc(1024 * 1024));
    const res = await putRaw({
      stream_name: 'lim-1',
      records: Array.from({ length: 6 }, () => ({ data: mib })),
    });
    expectDisError(res, 413, 'DIS.4200');
  });

  it('when the body exceeds 12 MB, the gateway answers 413', async () => {
    const res = await putRaw({
      stream_name: 'lim-1',
      records: [{ data: 'A'.repeat(13 * 1024 * 1024) }],
    });
    assert.equal(res.status, 413);
    assert.match(res.text, /"error_code":"APIGW.0201"/);
  });

  it('when records are empty or missing, the request gets DIS.4202', async () => {
    expectDisError(await putRaw({ stream_name: 'lim-1', records: [] }), 400, 'DIS.4202');
    expectDisError(await putRaw({ stream_name: 'lim-1' }), 400, 'DIS.4202');
  });

  it('when the stream is unknown, the request gets DIS.4301', async () => {
    expectDisError(
      await putRaw({ stream_name: 'nope', records: [{ data: b64('x') }] }),
      400,
      'DIS.4301',
    );
  });

  it('when a partition id is malformed or out of range, the whole request gets DIS.4201', async () => {
    for (const id of ['x', '2', 'shardId-2', '-1']) {
      const res = await putRaw({
        stream_name: 'lim-1',
        records: [{ data: b64('x') }, { data: b64('y'), partition_id: id }],
      });
      expectDisError(res, 400, 'DIS.4201');
    }
  });

  it('when data is not Base64, is empty, or the hash key is invalid, the request gets DIS.4200', async () => {
    for (const record of [
      { data: 'not base64!' },
      { data: 'YWJj' + '=' },
      { data: '' },
      { data: b64('x'), explicit_hash_key: '9223372036854775808' },
      { data: b64('x'), explicit_hash_key: 'abc' },
    ]) {
      expectDisError(await putRaw({ stream_name: 'lim-1', records: [record] }), 400, 'DIS.4200');
    }
  });

  it('when there are more records than maxRecordsPerRequest, the request gets DIS.4200', async () => {
    const records = Array.from({ length: 11 }, () => ({ data: b64('x') }));
    expectDisError(await putRaw({ stream_name: 'lim-1', records }), 400, 'DIS.4200');
  });

  it('when the body is not JSON, the request gets DIS.4300', async () => {
    expectDisError(await h.dis('/records', { body: '[[' }), 400, 'DIS.4300');
  });
});

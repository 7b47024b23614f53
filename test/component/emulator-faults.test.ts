import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { b64, startEmulator } from '../helpers/emulator-harness.ts';
import type { Harness } from '../helpers/emulator-harness.ts';
import { PutResult, expectBody, expectDisError } from '../helpers/emulator-wire.ts';

describe('emulator faults', () => {
  let h: Harness;
  let draws: number[] = [];

  before(async () => {
    h = await startEmulator({
      random: () => draws.shift() ?? 0.99,
      streams: [{ name: 'flt', partitions: 1 }],
    });
  });
  beforeEach(() => {
    h.emulator.faults.clear();
    draws = [];
  });
  after(() => h.close());

  const records = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ data: b64(`f${i}`), partition_id: '0' }));
  const put = (n = 1) => h.dis('/records', { body: { stream_name: 'flt', records: records(n) } });
  const stored = () => h.emulator.state.records('flt')[0]?.records.length ?? 0;
  const admin = (method: string, body?: unknown) =>
    h.raw('/_emulator/faults', { method, ...(body === undefined ? {} : { body }) });

  it('when the next N PutRecords are set to fail, exactly those get the status and body, other operations pass', async () => {
    h.emulator.faults.failNext({
      count: 2,
      operation: 'PutRecords',
      status: 503,
      code: 'DIS.5000',
      message: 'System error.',
    });
    assert.equal((await h.dis('/streams')).status, 200);
    expectDisError(await put(), 503, 'DIS.5000');
    expectDisError(await put(), 503, 'DIS.5000');
    assert.equal((await put()).status, 200);
  });

  it('when a failure is set over the admin API in the gateway shape, the client sees that shape', async () => {
    const set = await admin('POST', {
      failNext: { status: 429, shape: 'apigw', code: 'APIGW.0308', message: 'throttled' },
    });
    assert.equal(set.status, 200);
    assert.match(set.text, /"failNext":\[\{"count":1/);
    const res = await put();
    assert.equal(res.status, 429);
    assert.match(
      res.text,
      /"error_code":"APIGW.0308","error_msg":"throttled","request_id":"[0-9a-f]{32}"/,
    );
  });

  it('when a raw body is scripted, it is sent verbatim', async () => {
    h.emulator.faults.failNext({ status: 500, body: 'upstream exploded' });
    const res = await put();
    assert.equal(res.status, 500);
    assert.equal(res.text, 'upstream exploded');
  });

  it('when a share of records is set to fail, those records carry the code inside a 200 and are not stored', async () => {
    const initial = stored();
    h.emulator.faults.failRecords({
      share: 0.5,
      errorCode: 'DIS.5250',
      errorMessage: 'Internal error.',
    });
    draws = [0.1, 0.9, 0.2, 0.8];
    const result = expectBody(await put(4), 200, PutResult);
    assert.equal(result.failed_record_count, 2);
    assert.deepEqual(
      result.records.map((r) => r.error_code),
      ['DIS.5250', undefined, 'DIS.5250', undefined],
    );
    assert.equal(result.records[1]?.sequence_number, String(initial));
    assert.equal(result.records[3]?.sequence_number, String(initial + 1));
    assert.equal(stored(), initial + 2);
  });

  it('when records failure is set over the admin API, every record fails at share 1', async () => {
    await admin('POST', { failRecords: { share: 1 } });
    const result = expectBody(await put(3), 200, PutResult);
    assert.equal(result.failed_record_count, 3);
    assert.equal(result.records[0]?.error_code, 'DIS.5250');
  });

  it('when latency is set, the answer comes no sooner than that', async () => {
    h.emulator.faults.setLatency(120);
    const start = performance.now();
    assert.equal((await put()).status, 200);
    assert.ok(performance.now() - start >= 115);
    await admin('POST', { latencyMs: 0 });
  });

  it('when the connection is reset before storing, the client gets a socket error and nothing is stored', async () => {
    const initial = stored();
    h.emulator.faults.resetConnections({ when: 'before-store' });
    await assert.rejects(put(2));
    assert.equal(stored(), initial);
    assert.equal((await put()).status, 200);
  });

  it('when the connection is reset after storing (over the admin API), the records are there although the client saw an error', async () => {
    const initial = stored();
    await admin('POST', { resetConnections: { when: 'after-store', count: 1 } });
    await assert.rejects(put(2));
    assert.equal(stored(), initial + 2);
  });

  it('when everything is throttled, every record gets DIS.4303 until cleared', async () => {
    h.emulator.faults.throttleAll();
    const result = expectBody(await put(3), 200, PutResult);
    assert.deepEqual(new Set(result.records.map((r) => r.error_code)), new Set(['DIS.4303']));
    const cleared = await admin('DELETE');
    assert.deepEqual(cleared.json, {
      failNext: [],
      failRecords: null,
      latencyMs: 0,
      resetConnections: null,
      throttleAll: false,
    });
    assert.equal(expectBody(await put(), 200, PutResult).failed_record_count, 0);
  });

  it('when the admin body is invalid, it is refused with 400 and nothing changes', async () => {
    const res = await admin('POST', { failRecords: { share: 2 } });
    assert.equal(res.status, 400);
    assert.equal((await admin('GET')).text, JSON.stringify(h.emulator.faults.snapshot()));
    assert.equal((await admin('POST', { bogus: true })).status, 400);
  });

  it('when stats are requested over the admin API, they count requests by operation', async () => {
    const res = await h.raw('/_emulator/stats');
    assert.equal(res.status, 200);
    assert.match(res.text, /"PutRecords":\d+/);
  });
});

describe('emulator with the admin API off', () => {
  it('when admin is off, the admin paths do not exist', async () => {
    const h = await startEmulator({ admin: false });
    try {
      const res = await h.raw('/_emulator/faults');
      assert.equal(res.status, 404);
      assert.match(res.text, /APIGW.0101/);
    } finally {
      await h.close();
    }
  });
});

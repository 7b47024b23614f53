import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Response } from 'supertest';
import { createOpenApiChecker } from '../helpers/openapi.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';

const checkOpenApi = createOpenApiChecker();
const seenStatuses = new Set<number>();

function expectDocumented(res: Response): void {
  seenStatuses.add(res.status);
  assert.deepEqual(checkOpenApi(res), [], `answer ${res.status} matches the OpenAPI document`);
}

function expectProblem(res: Response, status: number, code: string): void {
  assert.equal(res.status, status, res.text);
  assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/);
  const body = JSON.parse(res.text) as { code?: unknown; status?: unknown };
  assert.equal(body.code, code);
  assert.equal(body.status, status);
  expectDocumented(res);
}

describe('POST /v1/streams/{stream}/records', () => {
  let gw: TestGateway;
  let token: string;
  before(async () => {
    gw = await startGateway({
      streams: [
        { name: 'clicks', partitions: 2 },
        { name: 'orders', partitions: 1 },
      ],
    });
    token = gw.token({ scopes: ['dis:write:clicks'] });
  });
  after(async () => {
    await gw.close();
  });

  const post = (stream: string, body: string, type = 'application/json') =>
    gw.http
      .post(`/v1/streams/${stream}/records`)
      .set('Authorization', `Bearer ${token}`)
      .set('Content-Type', type)
      .send(body);

  it('writes every record and answers 200 with each verdict in order, ids echoed', async () => {
    const res = await post(
      'clicks',
      JSON.stringify({
        records: [
          { id: 'a', data: { user_id: 'u-1', n: 1 } },
          { data_base64: Buffer.from([0, 1, 2, 255]).toString('base64'), partition_id: '1' },
          { id: 'c', data: 'text', partition_key: 'k' },
        ],
      }),
    );
    assert.equal(res.status, 200, res.text);
    expectDocumented(res);
    const body = res.body as {
      stream: string;
      failed_record_count: number;
      records: Record<string, unknown>[];
    };
    assert.equal(body.stream, 'clicks');
    assert.equal(body.failed_record_count, 0);
    assert.deepEqual(
      body.records.map((r) => [r.id, r.status]),
      [
        ['a', 'ok'],
        [undefined, 'ok'],
        ['c', 'ok'],
      ],
    );
    assert.equal(body.records[1]?.partition_id, 'shardId-0000000001');
    const stored = gw.stored('clicks').map((b) => b.toString('hex'));
    assert.ok(stored.includes(Buffer.from('{"user_id":"u-1","n":1}').toString('hex')));
    assert.ok(stored.includes('000102ff'));
    assert.ok(stored.includes(Buffer.from('"text"').toString('hex')));
  });

  it('writes data as the caller wrote it, digit for digit, and reads back identical from DIS', async () => {
    const raw =
      '{"records":[{"data": {"big": 9007199254740993, "huge": 1e400, "exact": 0.10000000000000000555, "neg0": -0, "s": "\\u00e9 x", "z": [1, 2 ,3]}}]}';
    const res = await post('clicks', raw);
    assert.equal(res.status, 200, res.text);
    const verdict = (res.body as { records: { partition_id: string; sequence_number: string }[] })
      .records[0];
    assert.ok(verdict);
    const partition = gw.emulator.state
      .records(gw.streams[0]?.disStream ?? '')
      .find((p) => p.partitionId === verdict.partition_id);
    const record = partition?.records.find(
      (r) => String(r.sequenceNumber) === verdict.sequence_number,
    );
    assert.equal(
      record?.data.toString('utf8'),
      '{"big":9007199254740993,"huge":1e400,"exact":0.10000000000000000555,"neg0":-0,"s":"\\u00e9 x","z":[1,2,3]}',
    );
  });

  it('takes NDJSON, one record per line', async () => {
    const before = gw.stored('clicks').length;
    const res = await post('clicks', '{"a":1}\n[1,2]\n"x"\n', 'application/x-ndjson');
    assert.equal(res.status, 200, res.text);
    expectDocumented(res);
    assert.equal(gw.stored('clicks').length, before + 3);
  });

  it('answers 207 with per-record truth when DIS fails some records for good', async () => {
    gw.emulator.faults.failRecords({
      share: 1,
      errorCode: 'DIS.4302',
      errorMessage: 'Partition does not exist.',
    });
    try {
      const res = await post('clicks', JSON.stringify({ records: [{ id: 'x', data: 1 }] }));
      assert.equal(res.status, 207, res.text);
      expectDocumented(res);
      assert.deepEqual((res.body as { records: unknown[] }).records[0], {
        id: 'x',
        status: 'failed',
        error_code: 'DIS.4302',
        error_message: 'Partition does not exist.',
        retryable: false,
      });
    } finally {
      gw.emulator.faults.clear();
    }
  });

  it('reports records still throttled at the deadline as failed and retryable, with a retry hint', async () => {
    gw.emulator.faults.throttleAll(true);
    try {
      const res = await post('clicks', JSON.stringify({ records: [{ data: 1 }, { data: 2 }] })).set(
        'Prefer',
        'wait=1',
      );
      assert.equal(res.status, 207, res.text);
      expectDocumented(res);
      assert.equal(res.headers['preference-applied'], 'wait=1');
      for (const r of (res.body as { records: Record<string, unknown>[] }).records) {
        assert.equal(r.error_code, 'DIS.4303');
        assert.equal(r.retryable, true);
        assert.ok(typeof r.retry_after_ms === 'number' && r.retry_after_ms > 0);
      }
    } finally {
      gw.emulator.faults.clear();
    }
  });

  it('answers 503 with Retry-After when DIS cannot be reached, 504 when it does not answer in time', async () => {
    gw.emulator.faults.failNext({
      count: 50,
      operation: 'PutRecords',
      status: 503,
      shape: 'apigw',
    });
    const unavailable = await post('clicks', JSON.stringify({ records: [{ data: 1 }] })).set(
      'Prefer',
      'wait=1',
    );
    gw.emulator.faults.clear();
    expectProblem(unavailable, 503, 'ERR_DIS_UNAVAILABLE');
    assert.match(unavailable.headers['retry-after'] ?? '', /^\d+$/);

    gw.emulator.faults.setLatency(1500);
    try {
      const res = await post('clicks', JSON.stringify({ records: [{ data: 1 }] })).set(
        'Prefer',
        'wait=1',
      );
      expectProblem(res, 504, 'ERR_DIS_TIMEOUT');
      // The DIS call goes on after the 504 (to its request timeout): let it end before the next
      // test scripts the emulator's faults.
      await new Promise((resolve) => setTimeout(resolve, 700));
    } finally {
      gw.emulator.faults.clear();
    }
  });

  it('answers 502 when DIS refuses the gateway’s own request (its credentials)', async () => {
    gw.emulator.faults.failNext({
      count: 1,
      operation: 'PutRecords',
      status: 401,
      shape: 'apigw',
      code: 'APIGW.0301',
    });
    const res = await post('clicks', JSON.stringify({ records: [{ data: 1 }] }));
    expectProblem(res, 502, 'ERR_DIS_BAD_GATEWAY');
  });

  it('rejects a bad stream name or an unknown stream with 404 before anything else', async () => {
    expectProblem(await post('bad%20name', '{}'), 404, 'ERR_STREAM_NOT_FOUND');
    expectProblem(await post('nope', '{}'), 404, 'ERR_STREAM_NOT_FOUND');
  });

  it('answers 403 naming the scope when the token does not reach the stream', async () => {
    const res = await post('orders', JSON.stringify({ records: [{ data: 1 }] }));
    expectProblem(res, 403, 'ERR_AUTH_INSUFFICIENT_SCOPE');
    assert.match(res.headers['www-authenticate'] ?? '', /error="insufficient_scope"/);
    assert.match(res.headers['www-authenticate'] ?? '', /scope="dis:write:orders"/);
  });

  it('answers 401 without a token and ignores a token in the query string', async () => {
    const res = await gw.http
      .post(`/v1/streams/clicks/records?access_token=${token}`)
      .set('Content-Type', 'application/json')
      .send('{"records":[{"data":1}]}');
    expectProblem(res, 401, 'ERR_AUTH_INVALID_TOKEN');
    assert.match(res.headers['www-authenticate'] ?? '', /^Bearer/);
  });

  it('answers 405 with Allow for other methods and 415 for other media types', async () => {
    const get = await gw.http
      .get('/v1/streams/clicks/records')
      .set('Authorization', `Bearer ${token}`);
    expectProblem(get, 405, 'ERR_HTTP_METHOD_NOT_ALLOWED');
    assert.equal(get.headers.allow, 'POST');
    expectProblem(
      await post('clicks', 'a=b', 'application/x-www-form-urlencoded'),
      415,
      'ERR_HTTP_UNSUPPORTED_MEDIA_TYPE',
    );
    expectProblem(
      await post('clicks', '{}', 'application/json; charset=latin1'),
      415,
      'ERR_HTTP_UNSUPPORTED_MEDIA_TYPE',
    );
  });

  it('rejects bad bodies with 400 or 413 and a pointer, and writes nothing from them', async () => {
    const before = gw.stored('clicks').length;
    expectProblem(await post('clicks', '{"records":[{"data":1},]}'), 400, 'ERR_HTTP_INVALID_JSON');
    const invalid = await post(
      'clicks',
      JSON.stringify({
        records: [{ data: 1 }, { data_base64: 'not base64!' }, { data: 1, partition_id: '7' }],
      }),
    );
    expectProblem(invalid, 400, 'ERR_VALIDATION');
    const pointers = (invalid.body as { errors: { pointer: string }[] }).errors.map(
      (e) => e.pointer,
    );
    assert.ok(pointers.includes('/records/1/data_base64'), pointers.join());
    assert.ok(
      pointers.some((p) => p.startsWith('/records/2')),
      pointers.join(),
    );
    const badUtf8 = await gw.postRaw(
      '/v1/streams/clicks/records',
      Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]),
      {
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/json',
      },
    );
    assert.equal(badUtf8.status, 400);
    assert.equal((JSON.parse(badUtf8.text) as { code: string }).code, 'ERR_HTTP_INVALID_UTF8');
    // expectProblem(badUtf8, 400, 'ERR_HTTP_INVALID_UTF8');
    const tooMany = JSON.stringify({ records: Array.from({ length: 501 }, () => ({ data: 1 })) });
    expectProblem(await post('clicks', tooMany), 413, 'ERR_VALIDATION_TOO_LARGE');
    const bigRecord = JSON.stringify({ records: [{ data: 'x'.repeat(1024 * 1024) }] });
    expectProblem(await post('clicks', bigRecord), 413, 'ERR_VALIDATION_TOO_LARGE');
    const hugeBody = JSON.stringify({ records: [{ data: 'x'.repeat(6 * 1024 * 1024) }] });
    expectProblem(await post('clicks', hugeBody), 413, 'ERR_HTTP_BODY_TOO_LARGE');
    assert.equal(gw.stored('clicks').length, before, 'nothing from a rejected request reached DIS');
  });

  it('answers with problem+json for unknown routes and serves its OpenAPI document', async () => {
    const res = await gw.http.get('/nope');
    assert.equal(res.status, 404);
    assert.match(res.headers['content-type'] ?? '', /problem\+json/);
    const doc = await gw.http.get('/openapi.json');
    assert.equal(doc.status, 200);
    assert.equal((doc.body as { openapi: string }).openapi, '3.1.0');
  });

  it('keeps a safe X-Request-Id and replaces an unsafe one', async () => {
    const kept = await post('clicks', '{"records":[{"data":1}]}').set('X-Request-Id', 'abc-123');
    assert.equal(kept.headers['x-request-id'], 'abc-123');
    const replaced = await post('clicks', '{"records":[{"data":1}]}').set(
      'X-Request-Id',
      'a b\u00e9',
    );
    assert.notEqual(replaced.headers['x-request-id'], 'a b\u00e9');
    assert.match(replaced.headers['x-request-id'] ?? '', /^[0-9a-f-]{36}$/);
  });

  after(() => {
    // Every status of this file's answers was checked against the document above.
    for (const status of [200, 207, 400, 401, 403, 404, 405, 413, 415, 502, 504]) {
      assert.ok(seenStatuses.has(status), `status ${status} was exercised`);
    }
  });
});

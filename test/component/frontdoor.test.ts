import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGatewayOnRedis, type TestGatewayOnRedis } from '../helpers/gateway.ts';
import { createOpenApiChecker } from '../helpers/openapi.ts';
import { decodePutRecordsResult, encodePutRecordsRequest } from '../../src/dis/protobuf.ts';
import { producerRequest, pythonJson, type SigningForm } from '../helpers/dis-producer.ts';

// The DIS-compatible front door over real HTTP: producers signing in the three forms the official
// SDKs use, the emulator behind the gateway as DIS, a real Redis for limits.

const WRITER = { ak: 'FDWRITERAK0000000001', sk: 'frontdoor-writer-secret-key-0001' };
const CLICKS_ONLY = { ak: 'FDCLICKSAK0000000002', sk: 'frontdoor-clicks-secret-key-0002' };
const LIMITED = { ak: 'FDLIMITEDAK000000003', sk: 'frontdoor-limited-secret-key-003' };

const CONFIG = {
  frontdoor: {
    clients: {
      writer: {
        ak: WRITER.ak,
        sk_env: 'FD_WRITER_SK',
        principal: 'svc-writer',
        scopes: 'dis:write:*',
      },
      'clicks-only': {
        ak: CLICKS_ONLY.ak,
        sk_env: 'FD_CLICKS_SK',
        principal: 'svc-clicks',
        scopes: ['dis:write:clicks'],
      },
      limited: {
        ak: LIMITED.ak,
        sk_env: 'FD_LIMITED_SK',
        principal: 'svc-limited',
        scopes: ['dis:write:clicks'],
      },
    },
  },
  limits: { principals: { 'svc-limited': { requests_per_s: 1, burst: 1 } } },
};

describe('DIS front door', () => {
  let gw: TestGatewayOnRedis;
  let base: string;
  let close: () => Promise<void>;
  const disStream = (name: string): string => {
    const s = gw.streams.find((x) => x.name === name);
    if (s === undefined) throw new Error(name);
    return s.disStream;
  };
  const checkPut = createOpenApiChecker('/v2/{project_id}/records', 'post');
  const checkDescribe = createOpenApiChecker('/v2/{project_id}/streams/{stream_name}', 'get');
  const checkList = createOpenApiChecker('/v2/{project_id}/streams', 'get');
  const put = async (
    form: SigningForm,
    body: unknown,
    client: { ak: string; sk: string } = WRITER,
    extra: { projectId?: string; date?: Date; contentType?: string } = {},
  ) => {
    const res = await producerRequest({
      form,
      url: `${base}/v2/${extra.projectId ?? gw.emulator.projectId}/records${form === 'v3' ? '' : '/'}`,
      ak: client.ak,
      sk: client.sk,
      region: gw.emulator.region,
      projectId: gw.emulator.projectId,
      body:
        typeof body === 'string'
          ? body
          : form === 'python-v11'
            ? pythonJson(body)
            : JSON.stringify(body),
      ...(extra.date === undefined ? {} : { date: extra.date }),
      ...(extra.contentType === undefined ? {} : { contentType: extra.contentType }),
    });
    // Every answer is one the OpenAPI document describes.
    assert.deepEqual(checkPut(res), [], `${String(res.status)} ${res.text}`);
    return res;
  };

  before(async () => {
    gw = await startGatewayOnRedis({
      streams: [
        { name: 'clicks', partitions: 2 },
        { name: 'orders', partitions: 1 },
      ],
      env: {
        GATEWAY_CONFIG: '/etc/gateway.json',
        FD_WRITER_SK: WRITER.sk,
        FD_CLICKS_SK: CLICKS_ONLY.sk,
        FD_LIMITED_SK: LIMITED.sk,
      },
      readFile: () => JSON.stringify(CONFIG),
    });
    const served = await gw.serve();
    base = `http://127.0.0.1:${served.port}`;
    close = () => served.close();
  });
  after(async () => {
    await close();
    await gw.close();
  });

  for (const form of ['v3', 'java-legacy', 'python-v11'] as const) {
    it(`${form}: PutRecords is written and answered in DIS's shape, in request order`, async () => {
      const payloads = [
        Buffer.from(`${form}-a`),
        Buffer.from([0, 1, 2, 255]),
        Buffer.from(`${form}-c`),
      ];
      const res = await put(form, {
        stream_name: disStream('clicks'),
        records: [
          { data: payloads[0]?.toString('base64'), partition_key: 'user-42' },
          { data: payloads[1]?.toString('base64'), partition_id: 'shardId-0000000001' },
          { data: payloads[2]?.toString('base64'), explicit_hash_key: '0' },
        ],
      });
      assert.equal(res.status, 200, res.text);
      const answer = res.json as {
        failed_record_count: number;
        records: { partition_id: string; sequence_number: string }[];
      };
      assert.equal(answer.failed_record_count, 0);
      assert.equal(answer.records.length, 3);
      assert.equal(answer.records[1]?.partition_id, 'shardId-0000000001');
      assert.equal(answer.records[2]?.partition_id, 'shardId-0000000000');
      for (const r of answer.records) assert.match(r.sequence_number, /^\d+$/);
      const stored = gw.stored('clicks').map((b) => b.toString('hex'));
      for (const p of payloads) assert.ok(stored.includes(p.toString('hex')));
    });
  }

  it('protobuf: a java-dis style protobuf PutRecords gets a protobuf answer', async () => {
    const payloads = [Buffer.from('proto-a'), Buffer.from([9, 8, 7])];
    const body = encodePutRecordsRequest({
      streamName: disStream('clicks'),
      records: [
        { data: payloads[0] ?? Buffer.alloc(0), partitionKey: 'user-1', timestamp: Date.now() },
        { data: payloads[1] ?? Buffer.alloc(0), partitionId: '0' },
      ],
    });
    const bytes = await producerRequest({
      form: 'java-legacy',
      url: `${base}/v2/${gw.emulator.projectId}/records/`,
      ak: WRITER.ak,
      sk: WRITER.sk,
      region: gw.emulator.region,
      projectId: gw.emulator.projectId,
      body,
      contentType: 'application/x-protobuf; charset=utf-8',
    });
    assert.equal(bytes.status, 200, bytes.text);
    assert.match(String(bytes.headers['content-type']), /^application\/x-protobuf/);
    const result = decodePutRecordsResult(bytes.bytes);
    assert.equal(result.failedRecordCount, 0);
    assert.equal(result.records.length, 2);
    assert.equal(result.records[1]?.shardId, 'shardId-0000000000');
    const stored = gw.stored('clicks').map((b) => b.toString('hex'));
    for (const p of payloads) assert.ok(stored.includes(p.toString('hex')));
  });

  it('a 1,500-record request to a 2-partition stream is written whole, chunked by the gateway', async () => {
    const before = gw.stored('orders').length;
    const records = Array.from({ length: 1500 }, (_, i) => ({
      data: Buffer.from(`bulk-${i}`).toString('base64'),
      partition_key: `k-${i % 7}`,
    }));
    const res = await put('python-v11', { stream_name: disStream('orders'), records });
    assert.equal(res.status, 200, res.text);
    const answer = res.json as { failed_record_count: number; records: unknown[] };
    assert.equal(answer.failed_record_count, 0);
    assert.equal(answer.records.length, 1500);
    const stored = gw
      .stored('orders')
      .slice(before)
      .map((b) => b.toString());
    assert.equal(stored.length, 1500);
    assert.deepEqual(new Set(stored), new Set(records.map((_, i) => `bulk-${i}`)));
  });

  it('DescribeStream and ListStreams answer only for streams the client may write', async () => {
    const call = (path: string, client = CLICKS_ONLY) =>
      producerRequest({
        form: 'v3',
        url: `${base}/v2/${gw.emulator.projectId}${path}`,
        ak: client.ak,
        sk: client.sk,
        region: gw.emulator.region,
        projectId: gw.emulator.projectId,
      });
    const described = await call(`/streams/${disStream('clicks')}`);
    assert.equal(described.status, 200, described.text);
    const d = described.json as {
      stream_name: string;
      writable_partition_count: number;
      partitions: unknown[];
    };
    assert.equal(d.stream_name, disStream('clicks'));
    assert.equal(d.writable_partition_count, 2);
    assert.equal(d.partitions.length, 2);
    const refused = await call(`/streams/${disStream('orders')}`);
    assert.equal(refused.status, 403);
    assert.equal((refused.json as { errorCode: string }).errorCode, 'DIS.4116');
    assert.deepEqual(checkDescribe(described), []);
    assert.deepEqual(checkDescribe(refused), []);
    const listed = await call('/streams');
    assert.deepEqual(checkList(listed), []);
    assert.equal(listed.status, 200);
    assert.deepEqual((listed.json as { stream_names: string[] }).stream_names, [
      disStream('clicks'),
    ]);
    const all = await call('/streams?limit=10', WRITER);
    assert.deepEqual(
      (all.json as { stream_names: string[] }).stream_names,
      [disStream('clicks'), disStream('orders')].sort(),
    );
  });

  it('a wrong SK, a stale date and an unknown AK get the same 401, and nothing is written', async () => {
    const before = gw.stored('clicks').length;
    const body = { stream_name: disStream('clicks'), records: [{ data: 'YQ==' }] };
    const answers = [
      await put('v3', body, { ak: WRITER.ak, sk: 'not-the-writer-secret-key' }),
      await put('java-legacy', body, WRITER, { date: new Date(Date.now() - 16 * 60_000) }),
      await put('python-v11', body, { ak: 'FDUNKNOWNAK000000009', sk: WRITER.sk }),
    ];
    for (const res of answers) {
      assert.equal(res.status, 401);
      const json = res.json as Record<string, string>;
      assert.deepEqual(Object.keys(json).sort(), ['error_code', 'error_msg', 'request_id']);
      assert.equal(json.error_code, 'APIGW.0301');
      assert.equal(
        json.error_msg,
        'Incorrect IAM authentication information: verify aksk signature fail',
      );
      assert.ok(!res.text.includes(WRITER.sk));
    }
    assert.equal(gw.stored('clicks').length, before);
  });

  it('a valid signature over one body does not carry another, in every signing form', async () => {
    const before = gw.stored('clicks').length;
    const body = (text: string) =>
      JSON.stringify({
        stream_name: disStream('clicks'),
        records: [{ data: Buffer.from(text).toString('base64') }],
      });
    const signed = body('signed-body');
    const swapped = body('swapped-body');
    const call = (form: SigningForm, extra: Partial<Parameters<typeof producerRequest>[0]>) =>
      producerRequest({
        form,
        url: `${base}/v2/${gw.emulator.projectId}/records${form === 'v3' ? '' : '/'}`,
        ak: WRITER.ak,
        sk: WRITER.sk,
        region: gw.emulator.region,
        projectId: gw.emulator.projectId,
        body: signed,
        ...extra,
      });
    for (const form of ['v3', 'java-legacy', 'python-v11'] as const) {
      const res = await call(form, { sendBody: swapped });
      assert.equal(res.status, 401, `${form}: ${res.text}`);
    }
    // X-Sdk-Content-Sha256 signed in place of the body: a hash must be the body's, and
    // UNSIGNED-PAYLOAD is refused unless frontdoor.allow_unsigned_payload.
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    const wrongHash = await call('v3', {
      extraHeaders: { 'X-Sdk-Content-Sha256': sha(signed) },
      sendBody: swapped,
    });
    assert.equal(wrongHash.status, 401);
    const unsigned = await call('v3', {
      extraHeaders: { 'X-Sdk-Content-Sha256': 'UNSIGNED-PAYLOAD' },
      sendBody: swapped,
    });
    assert.equal(unsigned.status, 401);
    assert.equal(gw.stored('clicks').length, before, 'nothing of a refused request is written');
    const rightHash = await call('v3', { extraHeaders: { 'X-Sdk-Content-Sha256': sha(signed) } });
    assert.equal(rightHash.status, 200, rightHash.text);
    const failures = (await gw.http.get('/metrics')).text;
    for (const reason of ['bad-signature', 'payload-hash', 'unsigned-payload'])
      assert.match(
        failures,
        new RegExp(`gateway_frontdoor_auth_failures_total\\{reason="${reason}"\\} [1-9]`),
      );
  });

  it('an empty stream_name counts as absent (python-dis sends empty fields), an unknown id is DIS.4301', async () => {
    const empty = await put('v3', { stream_name: '', records: [{ data: 'YQ==' }] });
    assert.equal(empty.status, 400);
    assert.equal((empty.json as { errorCode: string }).errorCode, 'DIS.4200');
    const byId = await put('v3', {
      stream_name: '',
      stream_id: 'no-such-id',
      records: [{ data: 'YQ==' }],
    });
    assert.equal(byId.status, 400);
    assert.equal((byId.json as { errorCode: string }).errorCode, 'DIS.4301');
  });

  it('a client without the stream’s scope gets 403 DIS.4116; a wrong project id 400 DIS.4117', async () => {
    const before = gw.stored('orders').length;
    const scoped = await put(
      'v3',
      { stream_name: disStream('orders'), records: [{ data: 'YQ==' }] },
      CLICKS_ONLY,
    );
    assert.equal(scoped.status, 403);
    assert.equal((scoped.json as { errorCode: string }).errorCode, 'DIS.4116');
    const project = await put(
      'v3',
      { stream_name: disStream('orders'), records: [{ data: 'YQ==' }] },
      WRITER,
      { projectId: 'ffffffffffffffffffffffffffffffff' },
    );
    assert.equal(project.status, 400);
    assert.equal((project.json as { errorCode: string }).errorCode, 'DIS.4117');
    const unknown = await put('v3', { stream_name: 'no-such-stream', records: [{ data: 'YQ==' }] });
    assert.equal(unknown.status, 400);
    assert.equal((unknown.json as { errorCode: string }).errorCode, 'DIS.4301');
    assert.equal(gw.stored('orders').length, before);
  });

  it('over a gateway rate limit, every record comes back DIS.4303 in a 200; a later call passes', async () => {
    const body = (n: number) => ({
      stream_name: disStream('clicks'),
      records: [
        { data: Buffer.from(`limited-${n}-a`).toString('base64') },
        { data: Buffer.from(`limited-${n}-b`).toString('base64') },
      ],
    });
    const first = await put('v3', body(1), LIMITED);
    assert.equal(first.status, 200, first.text);
    assert.equal((first.json as { failed_record_count: number }).failed_record_count, 0);
    // One request per second, burst 1: the next one within the second is throttled (a slow
    // machine may let one through; then the one after it).
    let n = 2;
    let second = await put('v3', body(n), LIMITED);
    while (n < 5 && (second.json as { failed_record_count: number }).failed_record_count === 0)
      second = await put('v3', body(++n), LIMITED);
    assert.equal(second.status, 200, second.text);
    assert.deepEqual(second.json, {
      failed_record_count: 2,
      records: [
        { error_code: 'DIS.4303', error_message: 'Exceeded traffic control limit.' },
        { error_code: 'DIS.4303', error_message: 'Exceeded traffic control limit.' },
      ],
    });
    assert.ok(!gw.stored('clicks').some((b) => b.toString().startsWith(`limited-${n}-`)));
    await sleep(1100);
    const third = await put('v3', body(9), LIMITED);
    assert.equal((third.json as { failed_record_count: number }).failed_record_count, 0);
    assert.ok(gw.stored('clicks').some((b) => b.toString() === 'limited-9-a'));
  });

  it('X-Auth-Token carries a gateway JWT; a bad one gets the token 401', async () => {
    const body = JSON.stringify({
      stream_name: disStream('clicks'),
      records: [{ data: Buffer.from('by-token').toString('base64') }],
    });
    const url = `${base}/v2/${gw.emulator.projectId}/records`;
    const { request } = await import('undici');
    const ok = await request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-auth-token': gw.token({ scopes: ['dis:write:clicks'] }),
      },
      body,
    });
    assert.equal(ok.statusCode, 200, await ok.body.text());
    assert.ok(gw.stored('clicks').some((b) => b.toString() === 'by-token'));
    const bad = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-auth-token': 'not-a-token' },
      body,
    });
    assert.equal(bad.statusCode, 401);
    const json = (await bad.body.json()) as Record<string, string>;
    assert.equal(json.error_msg, 'Incorrect IAM authentication information: decrypt token fail');
  });

  it('reads and stream management are refused in DIS’s words: the front door is write-only', async () => {
    const res = await producerRequest({
      form: 'v3',
      url: `${base}/v2/${gw.emulator.projectId}/cursors?stream-name=${disStream('clicks')}&partition-id=0`,
      ak: WRITER.ak,
      sk: WRITER.sk,
      region: gw.emulator.region,
      projectId: gw.emulator.projectId,
    });
    assert.equal(res.status, 400);
    const json = res.json as { errorCode: string; message: string };
    assert.equal(json.errorCode, 'DIS.4200');
    assert.match(json.message, /accepts writes only/);
  });

  it('bad bodies are refused whole in DIS’s words, nothing written', async () => {
    const before = gw.stored('clicks').length;
    const cases: [unknown, number, string][] = [
      ['{"stream_name":', 400, 'DIS.4200'],
      [{ stream_name: disStream('clicks'), records: [] }, 400, 'DIS.4202'],
      [
        { stream_name: disStream('clicks'), records: [{ data: 'YQ==' }, { data: 'not base64!' }] },
        400,
        'DIS.4200',
      ],
      [
        { stream_name: disStream('clicks'), records: [{ data: 'YQ==', partition_id: 'shard-1' }] },
        400,
        'DIS.4201',
      ],
    ];
    for (const [body, status, code] of cases) {
      const res = await put('v3', body);
      assert.equal(res.status, status, res.text);
      assert.equal((res.json as { errorCode: string }).errorCode, code);
    }
    assert.equal(gw.stored('clicks').length, before);
  });
});

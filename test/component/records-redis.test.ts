import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGatewayOnRedis, type TestGatewayOnRedis } from '../helpers/gateway.ts';
import { createOpenApiChecker } from '../helpers/openapi.ts';

const checkOpenApi = createOpenApiChecker();

describe('records endpoint with a real Redis: Idempotency-Key and rate limits', () => {
  let gw: TestGatewayOnRedis;
  let token: string;
  let configFile: string;
  before(async () => {
    configFile = JSON.stringify({
      limits: {
        default: { requests_per_s: 5, burst: 5, records_per_s: 100000, bytes_per_s: 100000000 },
      },
    });
    gw = await startGatewayOnRedis({
      env: { GATEWAY_CONFIG: '/virtual/gateway.json' },
      readFile: () => configFile,
      emulator: { throttling: false },
    });
    token = gw.token({ scopes: ['dis:write:clicks'], subject: 'svc-idem' });
  });
  after(async () => {
    await gw.close();
  });

  const post = (body: string, key?: string, subject?: string) => {
    const req = gw.http
      .post('/v1/streams/clicks/records')
      .set('Authorization', `Bearer ${subject === undefined ? token : gw.token({ subject })}`)
      .set('Content-Type', 'application/json');
    if (key !== undefined) req.set('Idempotency-Key', key);
    return req.send(body);
  };

  it('replays the stored verdict for the same key and body, and writes nothing more', async () => {
    const body = JSON.stringify({
      records: [
        { id: 'e1', data: { n: 1 } },
        { id: 'e2', data: { n: 2 } },
      ],
    });
    const first = await post(body, 'key-replay-1', 'svc-a');
    assert.equal(first.status, 200, first.text);
    assert.equal(first.headers['idempotent-replayed'], undefined);
    const stored = gw.stored('clicks').length;
    const second = await post(body, 'key-replay-1', 'svc-a');
    assert.equal(second.status, 200);
    assert.equal(second.headers['idempotent-replayed'], 'true');
    assert.equal(second.text, first.text, 'the very same verdicts');
    assert.equal(gw.stored('clicks').length, stored, 'nothing written twice');

    const otherCaller = await post(body, 'key-replay-1', 'svc-b');
    assert.equal(
      otherCaller.headers['idempotent-replayed'],
      undefined,
      'keys are scoped to the caller',
    );
  });

  it('answers 422 when the key comes back with another body', async () => {
    const first = await post(JSON.stringify({ records: [{ data: 1 }] }), 'key-mismatch', 'svc-c');
    assert.equal(first.status, 200);
    const res = await post(JSON.stringify({ records: [{ data: 2 }] }), 'key-mismatch', 'svc-c');
    assert.equal(res.status, 422);
    assert.equal((res.body as { code: string }).code, 'ERR_IDEMPOTENCY_MISMATCH');
    assert.deepEqual(checkOpenApi(res), []);
  });

  it('answers 409 with Retry-After while the first request with the key is still running', async () => {
    gw.emulator.faults.setLatency(600);
    try {
      const body = JSON.stringify({ records: [{ data: 'slow' }] });
      const firstPending = post(body, 'key-concurrent', 'svc-d').then((r) => r);
      await new Promise((r) => setTimeout(r, 150));
      const second = await post(body, 'key-concurrent', 'svc-d');
      assert.equal(second.status, 409, second.text);
      assert.match(second.headers['retry-after'] ?? '', /^\d+$/);
      assert.deepEqual(checkOpenApi(second), []);
      const first = await firstPending;
      assert.equal(first.status, 200);
    } finally {
      gw.emulator.faults.clear();
    }
    const third = await post(
      JSON.stringify({ records: [{ data: 'slow' }] }),
      'key-concurrent',
      'svc-d',
    );
    assert.equal(third.headers['idempotent-replayed'], 'true');
  });

  it('lets a retry run again when the first attempt wrote nothing (503), instead of replaying it', async () => {
    gw.emulator.faults.failNext({
      count: 100,
      operation: 'PutRecords',
      status: 503,
      shape: 'apigw',
    });
    const body = JSON.stringify({ records: [{ data: 'retry-me' }] });
    const first = await post(body, 'key-after-503', 'svc-e').set('Prefer', 'wait=1');
    gw.emulator.faults.clear();
    assert.equal(first.status, 503);
    const second = await post(body, 'key-after-503', 'svc-e');
    assert.equal(second.status, 200);
    assert.equal(second.headers['idempotent-replayed'], undefined);
  });

  const possibleDuplicates = async (): Promise<number> =>
    (await gw.metrics.disPossibleDuplicates.get()).values[0]?.value ?? 0;

  it('when DIS answers after the caller’s wait, the 504 keeps the key: 409 while DIS works, then the stored verdict, and DIS holds the record once', async () => {
    const data = `late-${Date.now()}`;
    const body = JSON.stringify({ records: [{ data }] });
    const duplicatesBefore = await possibleDuplicates();
    gw.emulator.faults.setLatency(1800);
    let first;
    let meanwhile;
    try {
      first = await post(body, 'key-late', 'svc-late').set('Prefer', 'wait=1');
      meanwhile = await post(body, 'key-late', 'svc-late').set('Prefer', 'wait=1');
    } finally {
      gw.emulator.faults.clear();
    }
    assert.equal(first.status, 504, first.text);
    assert.equal((first.body as { code: string }).code, 'ERR_DIS_TIMEOUT');
    assert.deepEqual(checkOpenApi(first), []);
    assert.equal(meanwhile.status, 409, 'the outcome is not known yet');
    assert.match(meanwhile.headers['retry-after'] ?? '', /^\d+$/);

    let replay = await post(body, 'key-late', 'svc-late');
    // Every 250 ms: the caller's limit here is 5 requests/s.
    for (let i = 0; replay.status === 409 && i < 20; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      replay = await post(body, 'key-late', 'svc-late');
    }
    assert.equal(replay.status, 200, replay.text);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    const copies = gw.stored('clicks').filter((b) => b.toString('utf8') === JSON.stringify(data));
    assert.equal(copies.length, 1, 'written once, by the first request');
    assert.equal(await possibleDuplicates(), duplicatesBefore, 'the key makes the retry safe');
  });

  it('without a key, records DIS wrote after the caller’s 504 count as possible duplicates', async () => {
    const duplicatesBefore = await possibleDuplicates();
    gw.emulator.faults.setLatency(1300);
    let res;
    try {
      res = await post(
        JSON.stringify({ records: [{ data: 'late-no-key' }] }),
        undefined,
        'svc-nk',
      ).set('Prefer', 'wait=1');
    } finally {
      gw.emulator.faults.clear();
    }
    assert.equal(res.status, 504);
    const deadline = Date.now() + 5000;
    while ((await possibleDuplicates()) === duplicatesBefore && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(await possibleDuplicates(), duplicatesBefore + 1);
  });

  it('rejects an Idempotency-Key that is too long or not printable ASCII', async () => {
    for (const key of ['x'.repeat(256), 'caf\u00e9']) {
      const res = await post(JSON.stringify({ records: [{ data: 1 }] }), key, 'svc-f');
      assert.equal(res.status, 400, key);
      assert.equal((res.body as { code: string }).code, 'ERR_IDEMPOTENCY_KEY_INVALID');
    }
  });

  it('answers 429 with Retry-After and RateLimit headers once the caller is over its limit', async () => {
    const t = gw.token({ subject: 'svc-limited' });
    const answers: {
      status: number;
      headers: Record<string, string | undefined>;
      res: Parameters<typeof checkOpenApi>[0];
    }[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await gw.http
        .post('/v1/streams/clicks/records')
        .set('Authorization', `Bearer ${t}`)
        .set('Content-Type', 'application/json')
        .send('{"records":[{"data":1}]}');
      answers.push({
        status: res.status,
        headers: res.headers,
        res,
      });
    }
    const limited = answers.filter((a) => a.status === 429);
    assert.ok(
      limited.length >= 5,
      `burst 5 at 5/s: most of 12 quick requests are limited (${limited.length})`,
    );
    for (const a of answers) {
      assert.ok(a.headers.ratelimit !== undefined && a.headers['ratelimit-policy'] !== undefined);
    }
    for (const a of limited) {
      assert.match(a.headers['retry-after'] ?? '', /^\d+$/);
      assert.deepEqual(checkOpenApi(a.res), []);
    }
  });
});

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/observability/logger.ts';
import { DEV_CREDENTIALS } from '../../src/emulator/emulator.ts';
import { signGithub } from '../../src/webhooks/sign.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startRedis, type RedisServer } from '../helpers/redis-server.ts';

function captureLogs(): {
  lines: () => Record<string, unknown>[];
  text: () => string;
  stream: Writable;
} {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  const text = () => chunks.join('');
  return {
    stream,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('health, readiness, metrics and access logs', () => {
  let redis: RedisServer;
  let gw: TestGateway;
  let draining = false;
  const logs = captureLogs();
  before(async () => {
    redis = await startRedis();
    gw = await startGateway({
      redisUrl: redis.url,
      streams: [{ name: 'clicks', partitions: 1 }],
      env: { GATEWAY_CONFIG: '/virtual/ops.json', GH_SECRET: 'ops-secret' },
      readFile: () =>
        JSON.stringify({
          redis: { on_error: 'fail-closed' },
          dis: { breaker: { failure_threshold: 2, cool_down_ms: 60000 } },
          webhooks: {
            sources: { gh: { profile: 'github', secrets_env: ['GH_SECRET'], stream: 'clicks' } },
          },
        }),
      logger: createLogger({ level: 'info', destination: logs.stream }),
      draining: () => draining,
    });
  });
  after(async () => {
    await gw.close();
    await redis.stop();
  });

  it('answers /healthz and /readyz with the state of each dependency, without auth', async () => {
    const health = await gw.http.get('/healthz');
    assert.equal(health.status, 200);
    assert.deepEqual(health.body, { status: 'ok' });
    const ready = await gw.http.get('/readyz');
    assert.equal(ready.status, 200);
    assert.match((await gw.http.get('/metrics')).text, /^gateway_ready 1$/m);
    assert.deepEqual(ready.body, {
      status: 'ready',
      checks: { draining: false, redis: 'up', dis_breaker: 'closed' },
    });
  });

  it('is not ready while draining', async () => {
    draining = true;
    try {
      const res = await gw.http.get('/readyz');
      assert.equal(res.status, 503);
      assert.equal((res.body as { checks: { draining: boolean } }).checks.draining, true);
      assert.match((await gw.http.get('/metrics')).text, /^gateway_ready 0$/m);
      const answer = await gw.http.get('/healthz');
      assert.equal(
        answer.headers.connection,
        'close',
        'answers close their connection while draining',
      );
    } finally {
      draining = false;
    }
  });

  it('logs one line per request with id, principal, stream, status and counts, and never the token or query', async () => {
    const token = gw.token({ scopes: ['dis:write:clicks'], subject: 'svc-logged' });
    const res = await gw.http
      .post('/v1/streams/clicks/records?secret=hunter2')
      .set('Authorization', `Bearer ${token}`)
      .set('X-Request-Id', 'req-log-1')
      .set('Content-Type', 'application/json')
      .send('{"records":[{"data":1},{"data":2}]}');
    assert.equal(res.status, 200, res.text);
    await gw.http
      .post('/v1/webhooks/gh')
      .set('X-Hub-Signature-256', signGithub({ secret: 'wrong', body: Buffer.from('{}') }))
      .send('{}');
    await gw.http.get('/healthz');
    const line = logs.lines().find((l) => l.req_id === 'req-log-1');
    assert.ok(line, logs.text());
    assert.equal(line.msg, 'request');
    assert.equal(line.principal, 'svc-logged');
    assert.equal(line.stream, 'clicks');
    assert.equal(line.status, 200);
    assert.equal(line.records, 2);
    assert.equal(line.records_failed, 0);
    assert.equal(line.route, '/v1/streams/:stream/records');
    assert.equal(line.path, '/v1/streams/clicks/records');
    assert.equal(typeof line.duration_ms, 'number');
    const text = logs.text();
    assert.ok(!text.includes(token), 'no token in logs');
    assert.ok(!text.includes('hunter2'), 'no query string in logs');
    assert.ok(!text.includes('sha256='), 'no signature in logs');
    assert.ok(
      !logs.lines().some((l) => l.path === '/healthz'),
      'health checks are not logged at info',
    );
  });

  it('exposes Prometheus metrics with bounded labels', async () => {
    await gw.http.get('/no/such/path/12345');
    const res = await gw.http.get('/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] ?? '', /^text\/plain/);
    const text = res.text;
    for (const name of [
      'gateway_http_requests_total',
      'gateway_http_request_duration_seconds_bucket',
      'gateway_records_total',
      'gateway_dis_requests_total',
      'gateway_dis_request_duration_seconds_bucket',
      'gateway_dis_breaker_state',
      'gateway_ratelimit_decisions_total',
      'gateway_webhook_verifications_total',
      'gateway_spool_depth',
      'process_cpu_seconds_total',
      'gateway_build_info',
    ]) {
      assert.ok(text.includes(name), `${name} is exposed`);
    }
    assert.match(
      text,
      /gateway_http_requests_total\{route="\/v1\/streams\/:stream\/records",method="POST",status="200"\} \d+/,
    );
    assert.match(text, /gateway_records_total\{stream="clicks",outcome="written"\} \d+/);
    assert.match(text, /gateway_webhook_verifications_total\{source="gh",result="signature"\} 1/);
    assert.match(text, /gateway_ratelimit_decisions_total\{result="allowed",source="redis"\} \d+/);
    // Only label values count: a gauge's value may contain the digits by chance.
    assert.ok(
      !/\{[^}]*(?:no\/such|12345)[^}]*\}/.test(text),
      'unmatched paths do not become label values',
    );
    assert.match(text, /route="unmatched"/);
  });

  it('stays ready while the DIS breaker is open and answers 503 with Retry-After; async webhooks are still spooled', async () => {
    gw.emulator.faults.failNext({
      count: 2,
      operation: 'PutRecords',
      status: 401,
      shape: 'apigw',
      code: 'APIGW.0301',
    });
    const token = gw.token({ scopes: ['dis:write:clicks'] });
    const post = () =>
      gw.http
        .post('/v1/streams/clicks/records')
        .set('Authorization', `Bearer ${token}`)
        .set('Content-Type', 'application/json')
        .send('{"records":[{"data":1}]}');
    for (let i = 0; i < 2; i++) await post();
    const open = await gw.http.get('/readyz');
    assert.equal(open.status, 200, 'every instance shares DIS: none leaves the load balancer');
    assert.deepEqual(open.body, {
      status: 'ready',
      checks: { draining: false, redis: 'up', dis_breaker: 'open' },
    });
    assert.match(
      (await gw.http.get('/metrics')).text,
      /gateway_dis_breaker_state\{dis_target="dis"\} 2/,
    );
    const refused = await post();
    assert.equal(refused.status, 503, refused.text);
    assert.match(refused.headers['content-type'] ?? '', /application\/problem\+json/);
    assert.match(refused.headers['retry-after'] ?? '', /^[1-9]\d*$/);

    // The logs say so: what DIS answered (with its request id), the breaker, the 503 at error.
    const lines = logs.lines();
    const credentials = lines.find((l) => l.dis_failure === 'credentials');
    assert.ok(credentials !== undefined, 'a line for the refused credentials');
    assert.equal(credentials.level, 'error');
    assert.equal(credentials.dis_status, 401);
    assert.equal(credentials.dis_code, 'APIGW.0301');
    assert.equal(credentials.operation, 'PutRecords');
    assert.equal(typeof credentials.dis_request_id, 'string');
    assert.equal(
      lines.filter((l) => l.dis_failure === 'credentials').length,
      1,
      'a repeated failure is one line per interval',
    );
    const opened = lines.find((l) => l.breaker === 'open');
    assert.equal(opened?.level, 'error');
    const access = lines.find((l) => l.msg === 'request' && l.status === 503);
    assert.equal(access?.level, 'error', 'a 5xx access line is an error');
    for (const secret of [DEV_CREDENTIALS[0]?.ak, DEV_CREDENTIALS[0]?.sk]) {
      assert.ok(secret !== undefined && !logs.text().includes(secret), 'no credential in the logs');
    }
    const body = Buffer.from('{"action":"opened"}');
    const delivery = await gw.postRaw('/v1/webhooks/gh', body, {
      'Content-Type': 'application/json',
      'X-GitHub-Delivery': 'ops-breaker-1',
      'X-GitHub-Event': 'issues',
      'X-Hub-Signature-256': signGithub({ secret: 'ops-secret', body }),
    });
    assert.equal(delivery.status, 202, delivery.text);
  });

  it('is not ready while Redis is down under fail-closed', async () => {
    await redis.stop();
    const down = await gw.http.get('/readyz');
    assert.equal((down.body as { checks: { redis: string } }).checks.redis, 'down');
    assert.equal(down.status, 503);
    await redis.start();
  });
});

describe('readiness under redis.on_error: fail-open', () => {
  it('is not ready while Redis has never been reached (a wrong REDIS_URL), and ready through an outage after', async () => {
    // A Redis that is not running yet: the gateway starts anyway (after its startup wait).
    const redis = await startRedis();
    await redis.stop();
    const gw = await startGateway({
      redisUrl: redis.url,
      streams: [{ name: 'clicks', partitions: 1 }],
    });
    try {
      const unreached = await gw.http.get('/readyz');
      assert.equal(unreached.status, 503, 'a rollout with a wrong REDIS_URL does not look healthy');
      assert.equal((unreached.body as { checks: { redis: string } }).checks.redis, 'down');
      await redis.start();
      await waitFor(async () => (await gw.http.get('/readyz')).status === 200);
      await redis.stop();
      const outage = await gw.http.get('/readyz');
      assert.equal((outage.body as { checks: { redis: string } }).checks.redis, 'down');
      assert.equal(outage.status, 200, 'fail-open serves through an outage: it stays ready');
    } finally {
      await gw.close();
      await redis.stop();
    }
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

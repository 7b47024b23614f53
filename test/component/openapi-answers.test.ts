import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { signGithub } from '../../src/webhooks/sign.ts';
import { startGatewayOnRedis, type TestGatewayOnRedis } from '../helpers/gateway.ts';
import {
  createOpenApiChecker,
  undocumentedHeaders,
  type CheckedAnswer,
} from '../helpers/openapi.ts';

// Real answers of the webhook, receipt and health endpoints against the OpenAPI document (the
// records endpoint's are checked in records-api and records-redis).

const GH_SECRET = 'gh-secret-for-openapi-tests';

const config = {
  server: { default_wait_ms: 1000 },
  // The shapes are the point here, not Redis's latency on a loaded machine (a 503 under the 50 ms
  // default would be a documented answer, just not the one each step sets out to check).
  redis: { command_timeout_ms: 1000 },
  webhooks: {
    sources: {
      gh: { profile: 'github', secrets_env: ['GH_SECRET'], stream: 'hooks', mode: 'async' },
      'gh-sync': { profile: 'github', secrets_env: ['GH_SECRET'], stream: 'hooks', mode: 'sync' },
    },
  },
};

const checkRecords = createOpenApiChecker();
const checkWebhook = createOpenApiChecker('/v1/webhooks/{source}', 'post');
const checkReceipt = createOpenApiChecker('/v1/receipts/{id}', 'get');
const checkHealth = createOpenApiChecker('/healthz', 'get');
const checkReady = createOpenApiChecker('/readyz', 'get');

function expectDocumented(
  check: (res: CheckedAnswer) => string[],
  res: CheckedAnswer,
  status: number,
): void {
  assert.equal(res.status, status, res.text);
  assert.deepEqual(check(res), [], `answer ${res.status} matches the OpenAPI document`);
}

describe('webhook, receipt and health answers match the OpenAPI document', () => {
  let gw: TestGatewayOnRedis;
  let draining = false;
  before(async () => {
    gw = await startGatewayOnRedis({
      streams: [{ name: 'hooks', partitions: 1 }],
      env: { GATEWAY_CONFIG: '/virtual/gw.json', GH_SECRET },
      readFile: () => JSON.stringify(config),
      emulator: { throttling: false },
      draining: () => draining,
    });
  });
  after(async () => {
    await gw.close();
  });

  const github = (source: string, body: string, id: string, secret = GH_SECRET) =>
    gw.postRaw(`/v1/webhooks/${source}`, Buffer.from(body), {
      'Content-Type': 'application/json',
      'X-GitHub-Event': 'push',
      'X-GitHub-Delivery': id,
      'X-Hub-Signature-256': signGithub({ secret, body: Buffer.from(body) }),
    });

  it('an async delivery’s 202, its repeat’s duplicate 200, and its receipt', async () => {
    const id = randomUUID();
    const accepted = await github('gh', '{"n":1}', id);
    expectDocumented(checkWebhook, accepted, 202);
    const duplicate = await github('gh', '{"n":1}', id);
    expectDocumented(checkWebhook, duplicate, 200);

    const { receipt } = JSON.parse(accepted.text) as { receipt: string };
    const operator = gw.token({ scopes: ['dis:receipts:read'], subject: 'ops' });
    const read = await gw.http
      .get(`/v1/receipts/${receipt}`)
      .set('Authorization', `Bearer ${operator}`);
    expectDocumented(checkReceipt, read, 200);
    const unknown = await gw.http
      .get(`/v1/receipts/${randomUUID()}`)
      .set('Authorization', `Bearer ${operator}`);
    expectDocumented(checkReceipt, unknown, 404);
  });

  it('a sync delivery’s 200 with its partition and sequence number', async () => {
    const written = await github('gh-sync', '{"n":2}', randomUUID());
    expectDocumented(checkWebhook, written, 200);
    assert.ok('sequence_number' in (JSON.parse(written.text) as object), written.text);
  });

  it('the problems for a bad signature and an unknown source', async () => {
    expectDocumented(checkWebhook, await github('gh', '{}', randomUUID(), 'wrong-secret'), 401);
    expectDocumented(checkWebhook, await github('nope', '{}', randomUUID()), 404);
  });

  it('a records 200, its replay and a 202 carry only headers their responses document', async () => {
    const writer = gw.token({ scopes: ['dis:write:hooks'] });
    const key = randomUUID();
    const post = (prefer?: string) => {
      const request = gw.http
        .post('/v1/streams/hooks/records')
        .set('Authorization', `Bearer ${writer}`)
        .set('Idempotency-Key', prefer === undefined ? key : randomUUID());
      if (prefer !== undefined) request.set('Prefer', prefer);
      return request.send({ records: [{ data: { n: 1 } }] });
    };
    const written = await post();
    expectDocumented(checkRecords, written, 200);
    for (const name of ['x-request-id', 'ratelimit', 'ratelimit-policy']) {
      assert.ok(name in written.headers, `the 200 carries ${name}`);
    }
    assert.deepEqual(undocumentedHeaders(written), [], 'every header of the 200 is documented');
    const replayed = await post();
    expectDocumented(checkRecords, replayed, 200);
    assert.equal(replayed.headers['idempotent-replayed'], 'true');
    const accepted = await post('respond-async, wait=1');
    expectDocumented(checkRecords, accepted, 202);
    assert.ok('location' in accepted.headers && 'preference-applied' in accepted.headers);
  });

  it('/healthz, and /readyz both ready and draining', async () => {
    expectDocumented(checkHealth, await gw.http.get('/healthz'), 200);
    expectDocumented(checkReady, await gw.http.get('/readyz'), 200);
    draining = true;
    try {
      expectDocumented(checkReady, await gw.http.get('/readyz'), 503);
    } finally {
      draining = false;
    }
  });
});

import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WebhookSourceConfig } from '../../src/config/types.ts';
import { Redis } from 'ioredis';
import {
  signGithub,
  signSlack,
  signStandardWebhook,
  signTestDelivery,
} from '../../src/webhooks/sign.ts';
import { startGatewayOnRedis, type TestGatewayOnRedis } from '../helpers/gateway.ts';
import { createOpenApiChecker } from '../helpers/openapi.ts';

const GH_SECRET = 'gh-secret-for-tests';
const GH_SECRET_OLD = 'gh-secret-rotated-out';
const SW_SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const SLACK_SECRET = 'slack-signing-secret-for-tests';

const config = {
  // Sync deliveries wait min(default_wait_ms, 5 s) for DIS.
  server: { default_wait_ms: 1000 },
  webhooks: {
    sources: {
      gh: {
        profile: 'github',
        secrets_env: ['GH_SECRET', 'GH_SECRET_OLD'],
        stream: 'hooks',
        mode: 'async',
      },
      'gh-sync': {
        profile: 'github',
        secrets_env: ['GH_SECRET'],
        stream: 'hooks',
        mode: 'sync',
        max_body_bytes: 2048,
      },
      sw: {
        profile: 'standard-webhooks',
        secrets_env: ['SW_SECRET'],
        stream: 'hooks',
        mode: 'async',
      },
      slack: { profile: 'slack', secrets_env: ['SLACK_SECRET'], stream: 'hooks', mode: 'async' },
    },
  },
  // An attempt in flight at a batch's deadline may run its whole bound (connect + 2 × request):
  // the claim time stays above put_timeout_ms plus that.
  dis: { request_timeout_ms: 1500, connect_timeout_ms: 500 },
  spool: {
    block_ms: 100,
    claim_idle_ms: 5000,
    put_timeout_ms: 1000,
    retry_initial_ms: 50,
    retry_max_ms: 300,
  },
};

interface Envelope {
  source: string;
  delivery_id: string;
  body: unknown;
  headers: Partial<Record<string, string>>;
}

describe('webhooks over HTTP with a real Redis spool', () => {
  let gw: TestGatewayOnRedis;
  before(async () => {
    gw = await startGatewayOnRedis({
      streams: [
        { name: 'hooks', partitions: 2 },
        { name: 'clicks', partitions: 1 },
      ],
      env: {
        GATEWAY_CONFIG: '/virtual/gw.json',
        GH_SECRET,
        GH_SECRET_OLD,
        SW_SECRET,
        SLACK_SECRET,
      },
      readFile: () => JSON.stringify(config),
      emulator: { throttling: false },
    });
  });
  after(async () => {
    await gw.close();
  });

  const envelopes = (): Envelope[] =>
    gw.stored('hooks').map((b) => JSON.parse(b.toString('utf8')) as Envelope);

  const github = (source: string, body: string, id = randomUUID(), secret = GH_SECRET) =>
    gw.postRaw(`/v1/webhooks/${source}`, Buffer.from(body), {
      'Content-Type': 'application/json',
      'X-GitHub-Event': 'push',
      'X-GitHub-Delivery': id,
      'X-Hub-Signature-256': signGithub({ secret, body: Buffer.from(body) }),
    });

  async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
      await sleep(25);
    }
  }

  it('accepts a signed delivery with 202 and a receipt, then the forwarder writes its envelope', async () => {
    const id = randomUUID();
    const body = '{"ref":"refs/heads/main","size":9007199254740993}';
    const res = await github('gh', body, id);
    assert.equal(res.status, 202, res.text);
    const answer = JSON.parse(res.text) as { receipt: string; delivery_id: string };
    assert.equal(answer.delivery_id, id);
    assert.equal(res.headers.location, `/v1/receipts/${answer.receipt}`);
    await waitFor(() => envelopes().some((e) => e.delivery_id === id), 'the envelope in DIS');
    const envelope = envelopes().find((e) => e.delivery_id === id);
    assert.ok(envelope);
    assert.equal(envelope.source, 'gh');
    assert.equal(envelope.headers['x-github-event'], 'push');
    assert.equal(envelope.headers['x-hub-signature-256'], undefined, 'signatures are not stored');
    const raw =
      gw
        .stored('hooks')
        .find((b) => b.includes(id))
        ?.toString('utf8') ?? '';
    assert.ok(raw.includes('"body":{"ref":"refs/heads/main","size":9007199254740993}'), raw);

    const operator = gw.token({ scopes: ['dis:receipts:read'], subject: 'ops' });
    const receipt = await gw.http
      .get(`/v1/receipts/${answer.receipt}`)
      .set('Authorization', `Bearer ${operator}`);
    assert.equal(receipt.status, 200, receipt.text);
    assert.equal((receipt.body as { status: string }).status, 'written');
    const stranger = await gw.http
      .get(`/v1/receipts/${answer.receipt}`)
      .set('Authorization', `Bearer ${gw.token({ subject: 'svc-x' })}`);
    assert.equal(stranger.status, 404, 'only the sender or an operator sees a receipt');
  });

  it('writes a replayed delivery once and answers the repeat 200 {"duplicate":true}', async () => {
    const id = randomUUID();
    const body = '{"n":1}';
    assert.equal((await github('gh', body, id)).status, 202);
    const again = await github('gh', body, id);
    assert.equal(again.status, 200);
    assert.deepEqual(JSON.parse(again.text), { duplicate: true, delivery_id: id });
    await waitFor(() => envelopes().some((e) => e.delivery_id === id), 'the envelope');
    await sleep(200);
    assert.equal(envelopes().filter((e) => e.delivery_id === id).length, 1);
  });

  it('sync mode: when DIS gives no answer at all, the delivery stays in progress (it may be written) and counts as a possible duplicate', async () => {
    const id = randomUUID();
    const duplicates = async (): Promise<number> =>
      (await gw.metrics.disPossibleDuplicates.get()).values[0]?.value ?? 0;
    const before = await duplicates();
    // Beyond the 1.5 s DIS request timeout: the gateway never learns what DIS did.
    gw.emulator.faults.setLatency(2000);
    let first;
    try {
      first = await github('gh-sync', '{"lost":1}', id);
      await waitFor(() => envelopes().some((e) => e.delivery_id === id), 'DIS’s write', 5000);
    } finally {
      gw.emulator.faults.clear();
    }
    assert.equal(first.status, 504, first.text);
    const again = await github('gh-sync', '{"lost":1}', id);
    assert.equal(again.status, 409, 'not released: a redelivery now could write it twice');
    assert.equal(await duplicates(), before + 1);
  });

  it('accepts either secret during rotation and refuses a re-serialized body or a wrong-length signature with 401', async () => {
    assert.equal((await github('gh', '{"a":1}', randomUUID(), GH_SECRET_OLD)).status, 202);
    const body = '{"a": 1}';
    const signedFor = signGithub({ secret: GH_SECRET, body: Buffer.from(body) });
    const reserialized = await gw.postRaw('/v1/webhooks/gh', Buffer.from('{"a":1}'), {
      'X-GitHub-Delivery': randomUUID(),
      'X-Hub-Signature-256': signedFor,
    });
    assert.equal(reserialized.status, 401);
    assert.equal(
      (JSON.parse(reserialized.text) as { code: string }).code,
      'ERR_WEBHOOK_UNAUTHORIZED',
    );
    const short = await gw.postRaw('/v1/webhooks/gh', Buffer.from(body), {
      'X-GitHub-Delivery': randomUUID(),
      'X-Hub-Signature-256': 'sha256=abcd',
    });
    assert.equal(short.status, 401, 'a wrong-length signature is a 401, not a 500');
    assert.equal(
      short.text,
      reserialized.text.replace(/"instance":"[^"]*",?/, ''),
      'no hint which part failed',
    );
  });

  it('checks standard-webhooks timestamps: 298 s off accepted, 302 s off refused (tolerance 300 s)', async () => {
    // Whole seconds on both sides: the test's second and the gateway's may differ by one when the
    // request crosses a second boundary, so the cases keep a second clear of the bound.
    const sw = (offsetS: number) => {
      const body = Buffer.from('{"type":"ping"}');
      const id = `msg_${randomUUID()}`;
      const timestamp = Math.floor(Date.now() / 1000) + offsetS;
      return gw.postRaw('/v1/webhooks/sw', body, {
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signStandardWebhook({ secret: SW_SECRET, id, timestamp, body }),
      });
    };
    assert.equal((await sw(-298)).status, 202);
    assert.equal((await sw(298)).status, 202);
    assert.equal((await sw(-302)).status, 401);
    assert.equal((await sw(302)).status, 401);
  });

  it('accepts a default Svix delivery (svix-id, svix-timestamp, svix-signature) with 202; its envelope keeps svix-id, never the signature', async () => {
    const body = Buffer.from('{"type":"invoice.paid","data":{"n":1}}');
    const id = `msg_${randomUUID()}`;
    const timestamp = Math.floor(Date.now() / 1000);
    const res = await gw.postRaw('/v1/webhooks/sw', body, {
      'Content-Type': 'application/json',
      'svix-id': id,
      'svix-timestamp': String(timestamp),
      'svix-signature': signStandardWebhook({ secret: SW_SECRET, id, timestamp, body }),
    });
    assert.equal(res.status, 202, res.text);
    assert.equal((JSON.parse(res.text) as { delivery_id: string }).delivery_id, id);
    await waitFor(() => envelopes().some((e) => e.delivery_id === id), 'the envelope in DIS');
    const envelope = envelopes().find((e) => e.delivery_id === id);
    assert.ok(envelope);
    assert.equal(envelope.headers['svix-id'], id);
    assert.equal(envelope.headers['svix-signature'], undefined, 'signatures are not stored');
  });

  it('answers a signed Slack url_verification 200 {"challenge"} and writes nothing (no claim, no receipt, no spool, nothing in DIS); unsigned or badly signed gets 401', async () => {
    const challenge = `ch_${randomUUID()}`;
    const body = Buffer.from(
      `{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"${challenge}","type":"url_verification"}`,
    );
    const slack = (secret: string | undefined) => {
      const timestamp = Math.floor(Date.now() / 1000);
      return gw.postRaw('/v1/webhooks/slack', body, {
        'Content-Type': 'application/json',
        'X-Slack-Request-Timestamp': String(timestamp),
        ...(secret === undefined
          ? {}
          : { 'X-Slack-Signature': signSlack({ secret, timestamp, body }) }),
      });
    };
    const client = new Redis(gw.redis.url, { lazyConnect: true });
    await client.connect();
    try {
      const keys = async () =>
        (await client.keys('gw:*')).filter((k) => !k.startsWith('gw:rl:')).sort();
      const before = await keys();
      const res = await slack(SLACK_SECRET);
      assert.equal(res.status, 200, res.text);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      assert.deepEqual(JSON.parse(res.text), { challenge });
      assert.equal(res.headers.location, undefined);
      assert.deepEqual(
        createOpenApiChecker('/v1/webhooks/{source}')(res),
        [],
        'the 200 matches the OpenAPI document',
      );
      // The same handshake again (Slack retries it) is answered the same: it was never claimed.
      const again = await slack(SLACK_SECRET);
      assert.equal(again.status, 200, again.text);
      assert.deepEqual(JSON.parse(again.text), { challenge });

      assert.equal((await slack(undefined)).status, 401);
      assert.equal((await slack('not-the-secret')).status, 401);

      // A real event afterwards goes through, and is the only thing written.
      const eventId = `Ev${randomUUID()}`;
      const event = Buffer.from(
        `{"type":"event_callback","event_id":"${eventId}","challenge":"${challenge}"}`,
      );
      const timestamp = Math.floor(Date.now() / 1000);
      const delivered = await gw.postRaw('/v1/webhooks/slack', event, {
        'Content-Type': 'application/json',
        'X-Slack-Request-Timestamp': String(timestamp),
        'X-Slack-Signature': signSlack({ secret: SLACK_SECRET, timestamp, body: event }),
      });
      assert.equal(delivered.status, 202, delivered.text);
      await waitFor(() => envelopes().some((e) => e.delivery_id === eventId), 'the event in DIS');
      const written = gw.stored('hooks').filter((b) => b.includes(challenge));
      assert.equal(written.length, 1, 'only the event, never the handshake, reached DIS');
      const added = (await keys()).filter((k) => !before.includes(k));
      // The event's replay claim and receipt; the handshakes left none of their own.
      assert.equal(added.filter((k) => k.startsWith('gw:replay:')).length, 1, added.join(' '));
      assert.equal(added.filter((k) => k.startsWith('gw:receipt:')).length, 1, added.join(' '));
    } finally {
      client.disconnect();
    }
  });

  it('answers 404 for an unknown source and 413 before verifying an oversize body', async () => {
    assert.equal((await github('nope', '{}')).status, 404);
    const big = await gw.postRaw('/v1/webhooks/gh-sync', Buffer.alloc(4096, 0x20), {
      'X-Hub-Signature-256': 'sha256=00',
    });
    assert.equal(big.status, 413);
  });

  it('sync mode writes before answering 200, and a failed write answers 503 and lets the retry through', async () => {
    const id = randomUUID();
    gw.emulator.faults.failNext({
      count: 100,
      operation: 'PutRecords',
      status: 503,
      shape: 'apigw',
    });
    const failed = await github('gh-sync', '{"s":1}', id);
    gw.emulator.faults.clear();
    assert.equal(failed.status, 503, failed.text);
    const retry = await github('gh-sync', '{"s":1}', id);
    assert.equal(retry.status, 200, retry.text);
    assert.match(retry.text, /"sequence_number":"\d+"/);
  });

  it('sync mode: when DIS answers after the wait, a redelivery meanwhile gets 409 (not a duplicate), and once DIS wrote it a duplicate; DIS holds it once', async () => {
    const id = randomUUID();
    // After the 1 s sync wait, within the 1.5 s DIS request timeout.
    gw.emulator.faults.setLatency(1300);
    let first;
    let meanwhile;
    try {
      first = await github('gh-sync', '{"late":1}', id);
      meanwhile = await github('gh-sync', '{"late":1}', id);
    } finally {
      gw.emulator.faults.clear();
    }
    assert.equal(first.status, 504, first.text);
    assert.equal(meanwhile.status, 409, meanwhile.text);
    assert.equal((JSON.parse(meanwhile.text) as { code: string }).code, 'ERR_WEBHOOK_IN_PROGRESS');
    assert.match(String(meanwhile.headers['retry-after']), /^\d+$/);
    await waitFor(() => envelopes().some((e) => e.delivery_id === id), 'the late write', 5000);
    let later = await github('gh-sync', '{"late":1}', id);
    for (let i = 0; later.status === 409 && i < 50; i += 1) {
      await sleep(50);
      later = await github('gh-sync', '{"late":1}', id);
    }
    assert.equal(later.status, 200, later.text);
    assert.match(later.text, /"duplicate":true/);
    assert.equal(envelopes().filter((e) => e.delivery_id === id).length, 1);
  });

  it('while DIS fails, deliveries still get 202; after it recovers every envelope is in DIS exactly once', async () => {
    gw.emulator.faults.failNext({
      count: 1_000_000,
      operation: 'PutRecords',
      status: 503,
      shape: 'apigw',
    });
    const ids: string[] = Array.from({ length: 40 }, () => randomUUID());
    try {
      for (const id of ids) {
        const source: WebhookSourceConfig = {
          profile: 'github',
          secrets: [GH_SECRET],
          stream: 'hooks',
          mode: 'async',
          toleranceS: 300,
          maxBodyBytes: 1 << 20,
          replayOnRedisDown: 'reject',
        };
        const body = Buffer.from(JSON.stringify({ id }));
        const headers = signTestDelivery(source, { body, nowMs: Date.now(), deliveryId: id });
        const res = await gw.postRaw('/v1/webhooks/gh', body, headers);
        assert.equal(res.status, 202, res.text);
      }
      await sleep(300);
      assert.equal(
        envelopes().filter((e) => ids.includes(e.delivery_id)).length,
        0,
        'nothing written while DIS fails',
      );
    } finally {
      gw.emulator.faults.clear();
    }
    await waitFor(
      () =>
        new Set(envelopes().map((e) => e.delivery_id)).size >= ids.length &&
        ids.every((id) => envelopes().some((e) => e.delivery_id === id)),
      'every envelope after recovery',
      10_000,
    );
    for (const id of ids)
      assert.equal(envelopes().filter((e) => e.delivery_id === id).length, 1, id);
  });

  it('Prefer: respond-async on the records endpoint answers 202 with a receipt the sender can read', async () => {
    const token = gw.token({ scopes: ['dis:write:clicks'], subject: 'svc-async' });
    const res = await gw.http
      .post('/v1/streams/clicks/records')
      .set('Authorization', `Bearer ${token}`)
      .set('Prefer', 'respond-async')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ records: [{ data: { a: 1 } }, { data: { a: 2 } }] }));
    assert.equal(res.status, 202, res.text);
    assert.equal(res.headers['preference-applied'], 'respond-async');
    assert.deepEqual(createOpenApiChecker()(res), [], 'the 202 matches the OpenAPI document');
    const { receipt } = res.body as { receipt: string };
    await waitFor(() => gw.stored('clicks').length >= 2, 'the records in DIS');
    let status = '';
    async function poll(): Promise<void> {
      const r = await gw.http
        .get(`/v1/receipts/${receipt}`)
        .set('Authorization', `Bearer ${token}`);
      status = (r.body as { status: string }).status;
    }
    for (let i = 0; i < 40 && status !== 'written'; i++) {
      await poll();
      if (status !== 'written') await sleep(50);
    }
    assert.equal(status, 'written');
  });
});

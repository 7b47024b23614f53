import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { loadConfig } from '../../src/config/load-config.ts';
import type { WebhookSourceConfig } from '../../src/config/types.ts';
import { readDeliveryBody } from '../../src/webhooks/delivery-body.ts';
import { createMemoryReplayGuard } from '../../src/webhooks/replay-guard.ts';
import { replayTtlS } from '../../src/webhooks/replay-ttl.ts';
import { signGithub, signSlack, signStandardWebhook, signStripe } from '../../src/webhooks/sign.ts';
import { createWebhookVerifier } from '../../src/webhooks/verifier.ts';
import type { WebhookRequest } from '../../src/webhooks/types.ts';
import { webhookSource } from '../helpers/webhook-source.ts';

// Every vector of test/fixtures/webhook-vectors.json (a copy of the shared fixture), run as is.

const Headers = z.record(z.string(), z.string());
const Fixture = z.object({
  scheme: z.object({ timestamp_tolerance_seconds: z.number() }),
  sign_vectors: z.array(
    z.object({
      id: z.string(),
      secret: z.string(),
      msg_id: z.string(),
      timestamp: z.number(),
      payload: z.string(),
      expected: z.string(),
    }),
  ),
  sign_errors: z.array(z.object({ id: z.string(), timestamp: z.string(), expect: z.string() })),
  constructor_vectors: z.array(
    z.object({ id: z.string(), secret: z.string(), expect: z.literal('constructor_error') }),
  ),
  verify_vectors: z.array(
    z.object({
      id: z.string(),
      expect: z.enum(['valid', 'invalid']),
      reason: z.string(),
      secret: z.string(),
      headers: Headers,
      payload: z.string(),
      now: z.number(),
      note: z.string().optional(),
    }),
  ),
  stateful_cases: z.array(
    z.object({ id: z.string(), steps: z.array(z.string()), expect: z.string() }),
  ),
  related_provider_vectors: z.array(
    z.object({
      provider: z.enum(['github', 'slack', 'stripe']),
      secret: z.string(),
      payload: z.string(),
      header: Headers,
      timestamp: z.union([z.string(), z.number()]).optional(),
      now: z.number().optional(),
    }),
  ),
});

const fixture = Fixture.parse(
  JSON.parse(readFileSync(new URL('../fixtures/webhook-vectors.json', import.meta.url), 'utf8')),
);
const TOLERANCE_S = fixture.scheme.timestamp_tolerance_seconds;

/**
 * Vectors where the official libraries are lenient and the gateway deliberately is not. sw-v-30's
 * unpadded secret is the sw-v-01 secret missing its last character; config refuses it
 * (build-tables.ts), so the verifier refuses it at construction rather than at every delivery.
 */
const REFUSED_AT_CONSTRUCTION = new Set(['sw-v-30']);

/** Invalid vectors the reference libraries accept: they must fail on the strict check itself
 *  (their signatures are otherwise right), not by accident. */
const STRICT_REASONS: Readonly<Record<string, string>> = {
  'sw-v-28': 'malformed',
  'sw-v-29': 'malformed',
};

function source(profile: WebhookSourceConfig['profile'], secret: string): WebhookSourceConfig {
  return webhookSource(profile, [secret], { toleranceS: TOLERANCE_S });
}

function request(headers: Readonly<Record<string, string>>, payload: string): WebhookRequest {
  return {
    headers: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    body: readDeliveryBody(Buffer.from(payload, 'utf8')),
  };
}

describe('standard-webhooks fixture: sign vectors', () => {
  it('has vectors to run', () => {
    assert.ok(fixture.sign_vectors.length >= 4);
    assert.ok(fixture.verify_vectors.length >= 30);
  });

  for (const vector of fixture.sign_vectors) {
    it(`${vector.id}: signing ${JSON.stringify(vector.payload)} gives the published signature`, () => {
      const signature = signStandardWebhook({
        secret: vector.secret,
        id: vector.msg_id,
        timestamp: vector.timestamp,
        body: vector.payload,
      });
      assert.equal(signature, vector.expected);
    });
  }

  for (const vector of fixture.sign_errors) {
    it(`${vector.id}: signing with timestamp ${JSON.stringify(vector.timestamp)} is an error`, () => {
      assert.equal(vector.expect, 'signing error');
      assert.throws(
        () =>
          signStandardWebhook({
            secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
            id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
            timestamp: vector.timestamp,
            body: '{"test": 2432232314}',
          }),
        /integer seconds/,
      );
    });
  }
});

describe('standard-webhooks fixture: constructor vectors', () => {
  for (const vector of fixture.constructor_vectors) {
    it(`${vector.id}: a verifier with secret ${JSON.stringify(vector.secret)} cannot be built`, () => {
      assert.throws(
        () => createWebhookVerifier(source('standard-webhooks', vector.secret)),
        (error) => {
          assert.ok(error instanceof Error);
          assert.match(error.message, /secret 1 of 1/);
          return true;
        },
      );
    });
  }
});

describe('standard-webhooks fixture: verify vectors', () => {
  for (const vector of fixture.verify_vectors) {
    if (REFUSED_AT_CONSTRUCTION.has(vector.id)) {
      it(`${vector.id}: ${vector.reason}: strict, the secret is refused when the verifier is built`, () => {
        assert.match(vector.note ?? '', /refuse such a secret at configuration time/);
        assert.throws(() => createWebhookVerifier(source('standard-webhooks', vector.secret)));
      });
      continue;
    }
    it(`${vector.id}: ${vector.reason} → ${vector.expect}`, () => {
      const verifier = createWebhookVerifier(source('standard-webhooks', vector.secret));
      const result = verifier.verify(request(vector.headers, vector.payload), vector.now * 1000);
      if (vector.expect === 'invalid') {
        assert.equal(result.ok, false, 'accepted an invalid delivery');
        const strict = STRICT_REASONS[vector.id];
        if (strict !== undefined) assert.deepEqual(result, { ok: false, reason: strict });
        return;
      }
      assert.deepEqual(result, {
        ok: true,
        deliveryId: vector.headers['webhook-id'] ?? vector.headers['Webhook-Id'],
        timestamp: Number(
          vector.headers['webhook-timestamp'] ?? vector.headers['WEBHOOK-TIMESTAMP'],
        ),
      });
    });
  }

  it('the strict cases are exactly the vectors whose note says a library is lenient', () => {
    const noted = fixture.verify_vectors
      .filter((v) => v.note !== undefined && /ACCEPT|lenien/.test(v.note))
      .map((v) => v.id);
    assert.deepEqual(
      noted.sort(),
      [...REFUSED_AT_CONSTRUCTION, ...Object.keys(STRICT_REASONS)].sort(),
    );
  });

  it("sw-v-30's unpadded secret is refused by loadConfig too, and sw-v-02's prefix-less one is not", () => {
    const load = (secret: string) =>
      loadConfig(
        {
          DIS_ENDPOINT: 'https://dis.cn-north-4.myhuaweicloud.com',
          DIS_PROJECT_ID: 'fedcba9876543210fedcba9876543210',
          DIS_AK: 'AKEXAMPLE',
          DIS_SK: 'sk-example',
          GATEWAY_CONFIG: '/c.yaml',
          JWT_SECRET: 'a-jwt-secret-long-enough-for-hs256-0123456789',
          WEBHOOK_SECRET: secret,
        },
        () => `
auth: { jwt: { issuer: iss, audience: aud, algorithms: [HS256], secret_env: JWT_SECRET } }
streams: { events: { dis_stream: dis-events, partitions: 1 } }
webhooks: { sources: { sw: { profile: standard-webhooks, secret_env: WEBHOOK_SECRET, stream: events } } }
`,
      );
    const unpadded = fixture.verify_vectors.find((v) => v.id === 'sw-v-30');
    const bare = fixture.verify_vectors.find((v) => v.id === 'sw-v-02');
    assert.ok(unpadded !== undefined && bare !== undefined);
    const refused = load(unpadded.secret);
    assert.ok(!refused.ok);
    assert.ok(
      refused.problems.some((p) => p.includes('not whsec_ + Base64')),
      refused.problems.join('\n'),
    );
    const accepted = load(bare.secret);
    assert.ok(accepted.ok, accepted.ok ? '' : accepted.problems.join('\n'));
  });
});

describe('standard-webhooks fixture: stateful cases at the replay guard', () => {
  const vector = fixture.verify_vectors.find((v) => v.id === 'sw-v-01');
  assert.ok(vector !== undefined);
  const { headers, payload, secret } = vector;
  const delivery = request(headers, payload);
  const deliveryId = headers['webhook-id'] ?? '';

  it('sw-s-01: the identical request 10 s later verifies again, but the guard calls it a duplicate', async () => {
    const verifier = createWebhookVerifier(source('standard-webhooks', secret));
    let nowMs = vector.now * 1000;
    const guard = createMemoryReplayGuard({
      ttlS: replayTtlS(TOLERANCE_S),
      pendingTtlS: 20,
      now: () => nowMs,
    });

    const first = verifier.verify(delivery, nowMs);
    assert.ok(first.ok);
    assert.equal(await guard.claim('sw', first.deliveryId), 'new');
    await guard.accept('sw', first.deliveryId);

    nowMs += 10_000;
    const second = verifier.verify(delivery, nowMs);
    assert.ok(second.ok, 'a replay inside the tolerance passes verification');
    assert.equal(await guard.claim('sw', second.deliveryId), 'duplicate');
  });

  it('sw-s-02: once the guard forgot the id, the old timestamp is already outside the tolerance', async () => {
    const ttlS = replayTtlS(TOLERANCE_S);
    assert.ok(ttlS >= 2 * TOLERANCE_S);
    const verifier = createWebhookVerifier(source('standard-webhooks', secret));
    // Received at the latest instant the tolerance allows: the guard must still remember it for as
    // long as the same timestamp can pass, i.e. until ts + tolerance.
    let nowMs = (vector.now - TOLERANCE_S) * 1000;
    const guard = createMemoryReplayGuard({ ttlS, pendingTtlS: 20, now: () => nowMs });
    assert.ok(verifier.verify(delivery, nowMs).ok);
    assert.equal(await guard.claim('sw', deliveryId), 'new');
    await guard.accept('sw', deliveryId);

    nowMs = (vector.now + TOLERANCE_S) * 1000 + 999;
    assert.ok(verifier.verify(delivery, nowMs).ok, 'the last instant inside the tolerance');
    assert.equal(await guard.claim('sw', deliveryId), 'duplicate', 'and still remembered');

    nowMs = (vector.now - TOLERANCE_S + ttlS) * 1000;
    assert.equal(await guard.claim('sw', deliveryId), 'new', 'the guard has forgotten the id');
    assert.deepEqual(verifier.verify(delivery, nowMs), { ok: false, reason: 'timestamp' });
  });
});

describe('related provider vectors', () => {
  for (const vector of fixture.related_provider_vectors) {
    it(`${vector.provider}: the published example verifies and re-signs to the same header`, () => {
      const nowMs = (vector.now ?? 0) * 1000;
      const headers = { ...vector.header };
      if (vector.provider === 'github') headers['X-GitHub-Delivery'] = 'delivery-1';
      const { payload } = vector;
      const verifier = createWebhookVerifier(source(vector.provider, vector.secret));
      const result = verifier.verify(request(headers, payload), nowMs);
      assert.ok(result.ok, `rejected: ${result.ok ? '' : result.reason}`);

      const timestamp = vector.timestamp ?? 0;
      const expected = Object.values(vector.header).find((v) => /^(sha256=|v0=|t=)/.test(v));
      const signed =
        vector.provider === 'github'
          ? signGithub({ secret: vector.secret, body: payload })
          : vector.provider === 'slack'
            ? signSlack({ secret: vector.secret, timestamp, body: payload })
            : signStripe({ secret: vector.secret, timestamp, body: payload });
      assert.equal(signed, expected);
    });

    it(`${vector.provider}: the published example with one body byte changed fails`, () => {
      const headers = { ...vector.header, 'X-GitHub-Delivery': 'delivery-1' };
      const tampered = `${vector.payload.slice(0, -1)}${vector.payload.endsWith('!') ? '?' : '!'}`;
      const verifier = createWebhookVerifier(source(vector.provider, vector.secret));
      const result = verifier.verify(request(headers, tampered), (vector.now ?? 0) * 1000);
      assert.deepEqual(result, { ok: false, reason: 'signature' });
    });
  }

  it('stripe: the delivery id is the verified event id', () => {
    const vector = fixture.related_provider_vectors.find((v) => v.provider === 'stripe');
    assert.ok(vector !== undefined);
    const verifier = createWebhookVerifier(source('stripe', vector.secret));
    const result = verifier.verify(
      request(vector.header, vector.payload),
      (vector.now ?? 0) * 1000,
    );
    assert.deepEqual(result, { ok: true, deliveryId: 'evt_test_webhook', timestamp: vector.now });
  });

  it('slack: the form-encoded slash command gets the hash of its signed content as delivery id', () => {
    const vector = fixture.related_provider_vectors.find((v) => v.provider === 'slack');
    assert.ok(vector !== undefined);
    const verifier = createWebhookVerifier(source('slack', vector.secret));
    const result = verifier.verify(
      request(vector.header, vector.payload),
      (vector.now ?? 0) * 1000,
    );
    assert.ok(result.ok);
    assert.match(result.deliveryId, /^[0-9a-f]{64}$/);
  });
});

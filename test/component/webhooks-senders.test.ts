import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sign as octokitSign } from '@octokit/webhooks-methods';
import { Redis } from 'ioredis';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { Webhook as SvixWebhook } from 'svix';
import { startGatewayOnRedis, type TestGatewayOnRedis } from '../helpers/gateway.ts';

// Each sender's own library signs; the delivery goes over a real socket to the real gateway, and
// its envelope is looked for in the DIS emulator. The gateway is configured as an operator would,
// with the secret exactly as the provider's dashboard shows it. The gateway's own signer
// (src/webhooks/sign.ts) is not used here: a shared mistake in it and the verifier would pass
// webhooks-api.test.ts, not this file. Slack has no official sender-side signing library; its
// published worked example is pinned in test/unit/webhooks-vectors.test.ts.

// Standard Webhooks: `whsec_` + Base64 of 24–64 random bytes; 32 bytes leave a `=` pad.
const SW_SECRET = `whsec_${Buffer.alloc(32, 0xa7).toString('base64')}`;
// Svix's dashboard form (the secret of Svix's own documentation): 24 bytes, no padding.
const SVIX_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
// GitHub: any text the operator typed; non-ASCII is HMAC'd as its UTF-8 bytes by both sides.
const GH_SECRET = "It's a Secret to Everybody, même à Zoë";
// Stripe: `whsec_` + letters and digits; the whole string is the key, never Base64-decoded.
const STRIPE_SECRET = 'whsec_7Zq2pKc4Xv9LmN3bR8tY1wE6uH0sJfDg';
const WRONG_SW_SECRET = `whsec_${Buffer.alloc(32, 0x5c).toString('base64')}`;

const TOLERANCE_S = 120;

const versionOf = (name: string): string =>
  (createRequire(import.meta.url)(`${name}/package.json`) as { version: string }).version;

const config = {
  server: { default_wait_ms: 1000 },
  webhooks: {
    sources: {
      sw: {
        profile: 'standard-webhooks',
        secret_env: 'SW_SECRET',
        stream: 'hooks',
        tolerance_s: TOLERANCE_S,
      },
      // The same key given without the prefix, as the libraries also allow.
      'sw-bare': {
        profile: 'standard-webhooks',
        secret_env: 'SW_SECRET_BARE',
        stream: 'hooks',
        tolerance_s: TOLERANCE_S,
      },
      svix: {
        profile: 'standard-webhooks',
        secret_env: 'SVIX_SECRET',
        stream: 'hooks',
        tolerance_s: TOLERANCE_S,
      },
      gh: { profile: 'github', secret_env: 'GH_SECRET', stream: 'hooks' },
      stripe: {
        profile: 'stripe',
        secret_env: 'STRIPE_SECRET',
        stream: 'hooks',
        tolerance_s: TOLERANCE_S,
      },
      // An operator who dropped `whsec_` from Stripe's value: a different key.
      'stripe-stripped': {
        profile: 'stripe',
        secret_env: 'STRIPE_SECRET_STRIPPED',
        stream: 'hooks',
        tolerance_s: TOLERANCE_S,
      },
    },
  },
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

/** What a sender puts on the wire: the exact body bytes and its headers. */
interface Delivery {
  readonly source: string;
  readonly deliveryId: string;
  readonly body: Buffer;
  readonly headers: Record<string, string>;
  /** The body as the envelope keeps it: the sender's JSON text, compacted, digits as sent. */
  readonly stored: string;
}

interface SignOptions {
  /** The secret the library is given (default: the source's). */
  readonly secret?: string;
  /** Seconds before now that the library is told it signs at (default 0). */
  readonly ageS?: number;
}

interface Sender {
  readonly name: string;
  /** Whether the library signs a timestamp (an old one must be refused). */
  readonly timestamped: boolean;
  readonly wrongSecret: string;
  sign(payload: string, options?: SignOptions): Delivery | Promise<Delivery>;
}

/** A payload with non-ASCII text and an integer beyond 2^53: the bytes must survive as signed. */
function payload(marker: string, id = `evt_${randomUUID()}`): string {
  return `{"id":"${id}","object":"event","amount":9007199254740993,"marker":"${marker}","name":"Zoë 🚀"}`;
}

const signedAt = (ageS = 0): Date => new Date(Date.now() - ageS * 1000);

function standardWebhooksSender(
  name: string,
  source: string,
  secret: string,
  names: { id: string; timestamp: string; signature: string },
  Library: typeof StandardWebhook | typeof SvixWebhook,
): Sender {
  return {
    name,
    timestamped: true,
    wrongSecret: WRONG_SW_SECRET,
    sign: (text, options = {}) => {
      const deliveryId = `msg_${randomUUID().replaceAll('-', '')}`;
      const at = signedAt(options.ageS);
      const signature = new Library(options.secret ?? secret).sign(deliveryId, at, text);
      return {
        source,
        deliveryId,
        body: Buffer.from(text, 'utf8'),
        stored: text,
        headers: {
          'content-type': 'application/json',
          [names.id]: deliveryId,
          [names.timestamp]: String(Math.floor(at.getTime() / 1000)),
          [names.signature]: signature,
        },
      };
    },
  };
}

/** Stripe's bodies are pretty-printed, two spaces (the flat test payload only). */
const stripeShape = (compact: string): string =>
  compact
    .replace(/^\{/, '{\n  ')
    .replaceAll(',"', ',\n  "')
    .replaceAll('":', '": ')
    .replace(/\}$/, '\n}');

const stripe = new Stripe('sk_test_not_used_no_requests_are_made');

function stripeSender(source: string): Sender {
  return {
    name: `stripe ${Stripe.PACKAGE_VERSION} (${source})`,
    timestamped: true,
    wrongSecret: 'whsec_NotTheEndpointSecret000000000000',
    sign: (compact, options = {}) => {
      const text = stripeShape(compact);
      const header = stripe.webhooks.generateTestHeaderString({
        payload: text,
        secret: options.secret ?? STRIPE_SECRET,
        timestamp: Math.floor(signedAt(options.ageS).getTime() / 1000),
      });
      const { id } = JSON.parse(text) as { id: string };
      return {
        source,
        deliveryId: id,
        body: Buffer.from(text, 'utf8'),
        stored: compact,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          'stripe-signature': header,
        },
      };
    },
  };
}

const senders: readonly Sender[] = [
  standardWebhooksSender(
    `standardwebhooks ${versionOf('standardwebhooks')} (webhook-* headers)`,
    'sw',
    SW_SECRET,
    { id: 'webhook-id', timestamp: 'webhook-timestamp', signature: 'webhook-signature' },
    StandardWebhook,
  ),
  standardWebhooksSender(
    `svix ${versionOf('svix')} (svix-* headers)`,
    'svix',
    SVIX_SECRET,
    { id: 'svix-id', timestamp: 'svix-timestamp', signature: 'svix-signature' },
    SvixWebhook,
  ),
  {
    name: `@octokit/webhooks-methods ${octokitSign.VERSION}`,
    timestamped: false,
    wrongSecret: "It's a Secret to Everybody, meme a Zoe",
    sign: async (text, options = {}) => {
      const deliveryId = randomUUID();
      return {
        source: 'gh',
        deliveryId,
        body: Buffer.from(text, 'utf8'),
        stored: text,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'GitHub-Hookshot/044aadd',
          'x-github-event': 'push',
          'x-github-delivery': deliveryId,
          'x-github-hook-id': '292430182',
          'x-hub-signature-256': await octokitSign(options.secret ?? GH_SECRET, text),
        },
      };
    },
  },
  stripeSender('stripe'),
];

describe('webhooks signed by the senders’ own libraries, over HTTP to the gateway', () => {
  let gw: TestGatewayOnRedis;
  let redis: Redis;
  before(async () => {
    gw = await startGatewayOnRedis({
      streams: [{ name: 'hooks', partitions: 2 }],
      env: {
        GATEWAY_CONFIG: '/virtual/gw.json',
        SW_SECRET,
        SW_SECRET_BARE: SW_SECRET.slice('whsec_'.length),
        SVIX_SECRET,
        GH_SECRET,
        STRIPE_SECRET,
        STRIPE_SECRET_STRIPPED: STRIPE_SECRET.slice('whsec_'.length),
      },
      readFile: () => JSON.stringify(config),
      emulator: { throttling: false },
    });
    redis = new Redis(gw.redis.url, { lazyConnect: true });
    await redis.connect();
  });
  after(async () => {
    redis.disconnect();
    await gw.close();
  });

  const envelopes = (): Envelope[] =>
    gw.stored('hooks').map((b) => JSON.parse(b.toString('utf8')) as Envelope);
  const post = (d: Delivery, body = d.body) =>
    gw.postRaw(`/v1/webhooks/${d.source}`, body, d.headers);

  async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
      await sleep(25);
    }
  }

  /** 202, then its envelope in DIS: same delivery id, the body's own text (compacted). */
  async function assertDelivered(d: Delivery): Promise<Envelope> {
    const res = await post(d);
    assert.equal(res.status, 202, res.text);
    assert.equal((JSON.parse(res.text) as { delivery_id: string }).delivery_id, d.deliveryId);
    await waitFor(() => envelopes().some((e) => e.delivery_id === d.deliveryId), 'the envelope');
    const raw = gw
      .stored('hooks')
      .filter((b) => b.includes(d.deliveryId))
      .map((b) => b.toString('utf8'));
    assert.equal(raw.length, 1, 'written once');
    assert.ok(raw[0]?.endsWith(`,"body":${d.stored}}`), raw[0]);
    const envelope = envelopes().find((e) => e.delivery_id === d.deliveryId);
    assert.ok(envelope);
    assert.equal(envelope.source, d.source);
    return envelope;
  }

  const gatewayKeys = async (): Promise<string[]> =>
    (await redis.keys('gw:*')).filter((k) => !k.startsWith('gw:rl:'));

  /** Each is refused with the bare 401; no replay claim, receipt or DIS record is left behind. */
  async function assertRefused(
    attempts: readonly { delivery: Delivery; body?: Buffer }[],
    control: Delivery,
  ): Promise<void> {
    const before = await gatewayKeys();
    for (const { delivery, body } of attempts) {
      const res = await post(delivery, body);
      assert.equal(res.status, 401, res.text);
      assert.equal((JSON.parse(res.text) as { code: string }).code, 'ERR_WEBHOOK_UNAUTHORIZED');
    }
    // A good delivery after them: once it is in DIS, the forwarder has had its chance.
    await assertDelivered(control);
    await sleep(200);
    const added = (await gatewayKeys()).filter((k) => !before.includes(k));
    assert.equal(added.filter((k) => k.startsWith('gw:replay:')).length, 1, added.join(' '));
    assert.equal(added.filter((k) => k.startsWith('gw:receipt:')).length, 1, added.join(' '));
    for (const { delivery } of attempts) {
      const marker = (JSON.parse(delivery.body.toString('utf8')) as { marker: string }).marker;
      assert.equal(
        gw.stored('hooks').filter((b) => b.includes(marker)).length,
        0,
        `nothing of ${marker} in DIS`,
      );
    }
  }

  for (const sender of senders) {
    describe(sender.name, () => {
      it('a delivery it signs is accepted with 202 and its payload reaches DIS as sent (non-ASCII, digits beyond 2^53)', async () => {
        const envelope = await assertDelivered(await sender.sign(payload(`ok-${randomUUID()}`)));
        for (const name of ['webhook-signature', 'svix-signature', 'x-hub-signature-256']) {
          assert.equal(envelope.headers[name], undefined, 'signatures are not stored');
        }
        assert.equal(envelope.headers['stripe-signature'], undefined);
      });

      it('its signature with a wrong secret, or over a body altered after signing, gets 401 and writes nothing', async () => {
        const wrong = await sender.sign(payload(`wrong-${randomUUID()}`), {
          secret: sender.wrongSecret,
        });
        const altered = await sender.sign(payload(`altered-${randomUUID()}`));
        // One byte changed after signing (the amount's last digit), and the signed text re-serialized.
        const text = altered.body.toString('utf8');
        const reserialized = await sender.sign(payload(`reserialized-${randomUUID()}`));
        await assertRefused(
          [
            { delivery: wrong },
            { delivery: altered, body: Buffer.from(text.replace('993,', '994,'), 'utf8') },
            {
              delivery: reserialized,
              body: Buffer.from(
                JSON.stringify(JSON.parse(reserialized.body.toString('utf8')), null, 2),
              ),
            },
          ],
          await sender.sign(payload(`control-${randomUUID()}`)),
        );
      });

      if (sender.timestamped) {
        it(`a timestamp beyond tolerance_s (${TOLERANCE_S} s) is refused; one within it is accepted`, async () => {
          await assertRefused(
            [
              {
                delivery: await sender.sign(payload(`old-${randomUUID()}`), {
                  ageS: TOLERANCE_S + 60,
                }),
              },
              { delivery: await sender.sign(payload(`older-${randomUUID()}`), { ageS: 86_400 }) },
            ],
            await sender.sign(payload(`recent-${randomUUID()}`), { ageS: TOLERANCE_S / 2 }),
          );
        });
      }
    });
  }

  describe('secret formats, as each library takes them', () => {
    it('standardwebhooks and svix Base64-decode the secret after an optional whsec_: either form signs alike, and a source configured with either accepts', async () => {
      const bare = SW_SECRET.slice('whsec_'.length);
      const at = new Date();
      for (const Library of [StandardWebhook, SvixWebhook]) {
        assert.equal(
          new Library(bare).sign('msg_1', at, '{}'),
          new Library(SW_SECRET).sign('msg_1', at, '{}'),
        );
      }
      const [sw] = senders;
      assert.ok(sw);
      // Signed with the bare form, verified against the whsec_ form, and the reverse.
      await assertDelivered(await sw.sign(payload(`bare-${randomUUID()}`), { secret: bare }));
      const toBare = await sw.sign(payload(`to-bare-${randomUUID()}`));
      await assertDelivered({ ...toBare, source: 'sw-bare' });
    });

    it('svix during a secret rotation: the signatures of the old and the new secret, space-separated as Svix sends them, are accepted by a source holding one', async () => {
      const svix = senders[1];
      assert.ok(svix);
      const d = await svix.sign(payload(`rotation-${randomUUID()}`));
      const at = new Date(Number(d.headers['svix-timestamp']) * 1000);
      const old = new SvixWebhook(WRONG_SW_SECRET).sign(d.deliveryId, at, d.body.toString('utf8'));
      await assertDelivered({
        ...d,
        headers: { ...d.headers, 'svix-signature': `${old} ${d.headers['svix-signature'] ?? ''}` },
      });
    });

    it('standardwebhooks with format "raw" HMACs the secret text itself: not the dashboard value’s key, refused', async () => {
      const d = await senders[0]?.sign(payload(`raw-${randomUUID()}`));
      assert.ok(d);
      const at = Number(d.headers['webhook-timestamp']) * 1000;
      const raw = new StandardWebhook(SW_SECRET, { format: 'raw' }).sign(
        d.deliveryId,
        new Date(at),
        d.body.toString('utf8'),
      );
      const res = await post({ ...d, headers: { ...d.headers, 'webhook-signature': raw } });
      assert.equal(res.status, 401, res.text);
    });

    it('stripe keys its HMAC with the whole whsec_ string: a source configured without the prefix refuses it', async () => {
      const d = await stripeSender('stripe-stripped').sign(payload(`stripped-${randomUUID()}`));
      const res = await post(d);
      assert.equal(res.status, 401, res.text);
      // The library signs the same with the prefix-less secret only if that is what it is given.
      const withBare = await stripeSender('stripe-stripped').sign(
        payload(`stripped-ok-${randomUUID()}`),
        { secret: STRIPE_SECRET.slice('whsec_'.length) },
      );
      await assertDelivered(withBare);
    });
  });
});

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import type { WebhookSourceConfig } from '../../src/config/types.ts';
import { readDeliveryBody } from '../../src/webhooks/delivery-body.ts';
import {
  signGithub,
  signSlack,
  signStandardWebhook,
  signStripe,
  signTestDelivery,
} from '../../src/webhooks/sign.ts';
import type { WebhookRequest } from '../../src/webhooks/types.ts';
import { createWebhookVerifier } from '../../src/webhooks/verifier.ts';
import { webhookSource } from '../helpers/webhook-source.ts';

const NOW_S = 1_700_000_000;
const NOW_MS = NOW_S * 1000;
const SW_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SW_OTHER = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';
const BODY = '{\n  "id": "evt_1",\n  "event_id": "Ev0001",\n  "n": 9007199254740993\n}';

function delivery(
  headers: Readonly<Record<string, string | readonly string[]>>,
  body: string | Buffer,
): WebhookRequest {
  return {
    headers: Object.fromEntries(
      Object.entries(headers).map(([name, value]) => [
        name,
        typeof value === 'string' ? [value] : value,
      ]),
    ),
    body: readDeliveryBody(typeof body === 'string' ? Buffer.from(body, 'utf8') : body),
  };
}

function swHeaders(
  body: string,
  options: { id?: string; timestampS?: number; secret?: string } = {},
): Record<string, string> {
  const id = options.id ?? 'msg_1';
  const timestamp = String(options.timestampS ?? NOW_S);
  return {
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': signStandardWebhook({
      secret: options.secret ?? SW_SECRET,
      id,
      timestamp,
      body,
    }),
  };
}

/** Signs BODY as each timestamped profile's sender would, with the timestamp given. */
const timestamped: Record<string, (timestampS: number) => Record<string, string>> = {
  'standard-webhooks': (t) => swHeaders(BODY, { timestampS: t }),
  stripe: (t) => ({
    'stripe-signature': signStripe({ secret: 'whsec_s', timestamp: t, body: BODY }),
  }),
  slack: (t) => ({
    'x-slack-request-timestamp': String(t),
    'x-slack-signature': signSlack({ secret: 'slack-secret', timestamp: t, body: BODY }),
  }),
};
const timestampedSource: Record<string, WebhookSourceConfig> = {
  'standard-webhooks': webhookSource('standard-webhooks', [SW_SECRET]),
  stripe: webhookSource('stripe', ['whsec_s']),
  slack: webhookSource('slack', ['slack-secret']),
};

describe('webhook verifier: timestamp tolerance', () => {
  for (const [profile, sign] of Object.entries(timestamped)) {
    const verifier = createWebhookVerifier(timestampedSource[profile] ?? assert.fail());
    for (const offset of [-299, 299, -300, 300]) {
      it(`${profile}: a timestamp ${offset} s from now is accepted`, () => {
        const result = verifier.verify(delivery(sign(NOW_S + offset), BODY), NOW_MS);
        assert.ok(result.ok && result.timestamp === NOW_S + offset);
      });
    }
    for (const offset of [-301, 301]) {
      it(`${profile}: a timestamp ${offset} s from now is refused`, () => {
        const result = verifier.verify(delivery(sign(NOW_S + offset), BODY), NOW_MS);
        assert.deepEqual(result, { ok: false, reason: 'timestamp' });
      });
    }
  }

  it('the configured tolerance applies: 61 s off fails with tolerance_s 60', () => {
    const verifier = createWebhookVerifier(
      webhookSource('standard-webhooks', [SW_SECRET], { toleranceS: 60 }),
    );
    const ok = verifier.verify(delivery(swHeaders(BODY, { timestampS: NOW_S - 60 }), BODY), NOW_MS);
    assert.ok(ok.ok);
    const late = verifier.verify(
      delivery(swHeaders(BODY, { timestampS: NOW_S - 61 }), BODY),
      NOW_MS,
    );
    assert.deepEqual(late, { ok: false, reason: 'timestamp' });
  });

  for (const text of [
    '+1700000000',
    ' 1700000000',
    '1700000000 ',
    '1.7e9',
    '1700000000.0',
    '0x6553f100',
    '',
  ]) {
    it(`standard-webhooks: timestamp header ${JSON.stringify(text)} is malformed even when signed`, () => {
      const verifier = createWebhookVerifier(webhookSource('standard-webhooks', [SW_SECRET]));
      const headers = swHeaders(BODY);
      headers['webhook-timestamp'] = text;
      // Signed over the odd text itself, so only the strict parse can refuse it.
      const signature = createHmac('sha256', Buffer.from(SW_SECRET.slice(6), 'base64'))
        .update(`msg_1.${text}.${BODY}`)
        .digest('base64');
      headers['webhook-signature'] = `v1,${signature}`;
      assert.deepEqual(verifier.verify(delivery(headers, BODY), NOW_MS), {
        ok: false,
        reason: 'malformed',
      });
    });
  }
});

describe('webhook verifier: raw bytes, lengths, rotation', () => {
  it('a body re-serialized after signing fails (whitespace is part of the signed bytes)', () => {
    const verifier = createWebhookVerifier(webhookSource('standard-webhooks', [SW_SECRET]));
    const reserialized = JSON.stringify({ id: 'evt_1', event_id: 'Ev0001', n: 1 });
    const original = BODY.replace('9007199254740993', '1');
    const headers = swHeaders(original);
    assert.ok(verifier.verify(delivery(headers, original), NOW_MS).ok);
    assert.deepEqual(verifier.verify(delivery(headers, reserialized), NOW_MS), {
      ok: false,
      reason: 'signature',
    });
  });

  const wrongLength: [string, WebhookSourceConfig, Record<string, string>][] = [
    [
      'standard-webhooks (16-byte v1)',
      webhookSource('standard-webhooks', [SW_SECRET]),
      { ...swHeaders(BODY), 'webhook-signature': `v1,${Buffer.alloc(16, 7).toString('base64')}` },
    ],
    [
      'github (31-byte hex)',
      webhookSource('github', ['gh']),
      { 'x-hub-signature-256': `sha256=${'ab'.repeat(31)}`, 'x-github-delivery': 'd-1' },
    ],
    [
      'github (65-byte hex, longer than the digest)',
      webhookSource('github', ['gh']),
      { 'x-hub-signature-256': `sha256=${'ab'.repeat(65)}`, 'x-github-delivery': 'd-1' },
    ],
    [
      'stripe (one hex byte)',
      webhookSource('stripe', ['whsec_s']),
      { 'stripe-signature': `t=${NOW_S},v1=ab` },
    ],
    [
      'slack (SHA-512-sized hex)',
      webhookSource('slack', ['slack-secret']),
      { 'x-slack-request-timestamp': String(NOW_S), 'x-slack-signature': `v0=${'cd'.repeat(64)}` },
    ],
  ];
  for (const [name, config, headers] of wrongLength) {
    it(`${name}: a signature of the wrong length fails without throwing`, () => {
      const verifier = createWebhookVerifier(config);
      assert.deepEqual(verifier.verify(delivery(headers, BODY), NOW_MS), {
        ok: false,
        reason: 'signature',
      });
    });
  }

  it('with two secrets configured, a delivery signed with either verifies and a third secret fails', () => {
    const verifier = createWebhookVerifier(
      webhookSource('standard-webhooks', [SW_SECRET, SW_OTHER]),
    );
    for (const secret of [SW_SECRET, SW_OTHER]) {
      assert.ok(verifier.verify(delivery(swHeaders(BODY, { secret }), BODY), NOW_MS).ok);
    }
    const stranger = swHeaders(BODY, { secret: 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
    assert.deepEqual(verifier.verify(delivery(stranger, BODY), NOW_MS), {
      ok: false,
      reason: 'signature',
    });
  });

  it('github rotation: the old and the new secret both verify', () => {
    const verifier = createWebhookVerifier(webhookSource('github', ['old-secret', 'new-secret']));
    for (const secret of ['old-secret', 'new-secret']) {
      const headers = {
        'x-hub-signature-256': signGithub({ secret, body: BODY }),
        'x-github-delivery': 'd-7',
      };
      assert.deepEqual(verifier.verify(delivery(headers, BODY), NOW_MS), {
        ok: true,
        deliveryId: 'd-7',
      });
    }
  });
});

describe('webhook verifier: headers', () => {
  it('standard-webhooks: a repeated webhook-signature header is refused even when one copy is valid', () => {
    const verifier = createWebhookVerifier(webhookSource('standard-webhooks', [SW_SECRET]));
    const headers = swHeaders(BODY);
    const twice = {
      ...headers,
      'webhook-signature': [headers['webhook-signature'] ?? '', 'v1,AAAA'],
    };
    assert.deepEqual(verifier.verify(delivery(twice, BODY), NOW_MS), {
      ok: false,
      reason: 'malformed',
    });
  });

  it('standard-webhooks: a repeated timestamp or id header is refused', () => {
    const verifier = createWebhookVerifier(webhookSource('standard-webhooks', [SW_SECRET]));
    const headers = swHeaders(BODY);
    for (const name of ['webhook-timestamp', 'webhook-id']) {
      const value = headers[name] ?? '';
      const twice = { ...headers, [name]: [value, value] };
      assert.deepEqual(verifier.verify(delivery(twice, BODY), NOW_MS), {
        ok: false,
        reason: 'malformed',
      });
    }
  });

  it('header names are matched case-insensitively', () => {
    const verifier = createWebhookVerifier(webhookSource('github', ['gh']));
    const headers = {
      'X-Hub-Signature-256': signGithub({ secret: 'gh', body: BODY }),
      'X-GitHub-Delivery': 'd-1',
    };
    assert.deepEqual(verifier.verify(delivery(headers, BODY), NOW_MS), {
      ok: true,
      deliveryId: 'd-1',
    });
  });

  it('standard-webhooks: unknown versions are ignored and a later v1 matches', () => {
    const verifier = createWebhookVerifier(webhookSource('standard-webhooks', [SW_SECRET]));
    const headers = swHeaders(BODY);
    headers['webhook-signature'] =
      `v1a,${'A'.repeat(86)}== v2,xyz ${headers['webhook-signature'] ?? ''}`;
    assert.ok(verifier.verify(delivery(headers, BODY), NOW_MS).ok);
  });

  it('github: only the SHA-1 header (X-Hub-Signature) is a missing signature', () => {
    const verifier = createWebhookVerifier(webhookSource('github', ['gh']));
    const sha1 = createHmac('sha1', 'gh').update(BODY).digest('hex');
    const headers = { 'x-hub-signature': `sha1=${sha1}`, 'x-github-delivery': 'd-1' };
    assert.deepEqual(verifier.verify(delivery(headers, BODY), NOW_MS), {
      ok: false,
      reason: 'missing-header',
    });
  });

  it('github: the signature without its sha256= prefix is malformed', () => {
    const verifier = createWebhookVerifier(webhookSource('github', ['gh']));
    const bare = signGithub({ secret: 'gh', body: BODY }).slice('sha256='.length);
    const headers = { 'x-hub-signature-256': bare, 'x-github-delivery': 'd-1' };
    assert.deepEqual(verifier.verify(delivery(headers, BODY), NOW_MS), {
      ok: false,
      reason: 'malformed',
    });
  });

  it('github: a valid signature without X-GitHub-Delivery fails, and so does a repeated one', () => {
    const verifier = createWebhookVerifier(webhookSource('github', ['gh']));
    const signature = { 'x-hub-signature-256': signGithub({ secret: 'gh', body: BODY }) };
    assert.deepEqual(verifier.verify(delivery(signature, BODY), NOW_MS), {
      ok: false,
      reason: 'missing-header',
    });
    const twice = { ...signature, 'x-github-delivery': ['d-1', 'd-2'] };
    assert.deepEqual(verifier.verify(delivery(twice, BODY), NOW_MS), {
      ok: false,
      reason: 'malformed',
    });
  });

  it('stripe: a header without t, or with two, is malformed', () => {
    const verifier = createWebhookVerifier(webhookSource('stripe', ['whsec_s']));
    const valid = signStripe({ secret: 'whsec_s', timestamp: NOW_S, body: BODY });
    const v1 = valid.slice(valid.indexOf('v1='));
    for (const header of [v1, `t=${NOW_S},t=${NOW_S},${v1}`, `t=${NOW_S},${v1},junk`]) {
      assert.deepEqual(verifier.verify(delivery({ 'stripe-signature': header }, BODY), NOW_MS), {
        ok: false,
        reason: 'malformed',
      });
    }
  });

  it('stripe: v1 among v0 and unknown schemes verifies; a valid v0 alone does not', () => {
    const verifier = createWebhookVerifier(webhookSource('stripe', ['whsec_s']));
    const valid = signStripe({ secret: 'whsec_s', timestamp: NOW_S, body: BODY });
    const hex = valid.slice(valid.indexOf('v1=') + 3);
    const mixed = `t=${NOW_S},v0=${hex},v9=zz,v1=${'00'.repeat(32)},v1=${hex}`;
    assert.ok(verifier.verify(delivery({ 'stripe-signature': mixed }, BODY), NOW_MS).ok);
    const v0Only = `t=${NOW_S},v0=${hex}`;
    assert.deepEqual(verifier.verify(delivery({ 'stripe-signature': v0Only }, BODY), NOW_MS), {
      ok: false,
      reason: 'signature',
    });
  });

  it('stripe: the key is the whole whsec_ string, not its Base64 decoding', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const verifier = createWebhookVerifier(webhookSource('stripe', [secret]));
    const decodedKey = Buffer.from(secret.slice(6), 'base64');
    const wrong = createHmac('sha256', decodedKey).update(`${NOW_S}.${BODY}`).digest('hex');
    const header = `t=${NOW_S},v1=${wrong}`;
    assert.deepEqual(verifier.verify(delivery({ 'stripe-signature': header }, BODY), NOW_MS), {
      ok: false,
      reason: 'signature',
    });
  });
});

describe('webhook verifier: Svix header names (standard-webhooks)', () => {
  const verifier = createWebhookVerifier(webhookSource('standard-webhooks', [SW_SECRET]));
  /** The same signature under Svix's names, as Svix sends it unless white-labelled. */
  const asSvix = (headers: Record<string, string>): Record<string, string> =>
    Object.fromEntries(
      Object.entries(headers).map(([name, value]) => [name.replace(/^webhook-/, 'svix-'), value]),
    );

  it('a delivery signed the Standard Webhooks way under svix-id/svix-timestamp/svix-signature verifies, its id from svix-id', () => {
    const headers = asSvix(swHeaders(BODY, { id: 'msg_svix' }));
    assert.deepEqual(verifier.verify(delivery(headers, BODY), NOW_MS), {
      ok: true,
      deliveryId: 'msg_svix',
      timestamp: NOW_S,
    });
  });

  it('svix-* headers get the same strictness: a wrong signature, a repeated header, a stale timestamp fail', () => {
    const good = asSvix(swHeaders(BODY));
    const wrong = asSvix(swHeaders(BODY, { secret: SW_OTHER }));
    assert.deepEqual(verifier.verify(delivery(wrong, BODY), NOW_MS), {
      ok: false,
      reason: 'signature',
    });
    const twice = { ...good, 'svix-id': ['msg_1', 'msg_1'] };
    assert.deepEqual(verifier.verify(delivery(twice, BODY), NOW_MS), {
      ok: false,
      reason: 'malformed',
    });
    const stale = asSvix(swHeaders(BODY, { timestampS: NOW_S - 301 }));
    assert.deepEqual(verifier.verify(delivery(stale, BODY), NOW_MS), {
      ok: false,
      reason: 'timestamp',
    });
  });

  it('with both families present webhook-* is verified and svix-* ignored', () => {
    const both = {
      ...asSvix(swHeaders(BODY, { id: 'msg_svix', secret: SW_OTHER })),
      ...swHeaders(BODY, { id: 'msg_std' }),
    };
    assert.deepEqual(verifier.verify(delivery(both, BODY), NOW_MS), {
      ok: true,
      deliveryId: 'msg_std',
      timestamp: NOW_S,
    });
    // A valid svix-* set does not rescue a bad webhook-* one.
    const badStandard = {
      ...asSvix(swHeaders(BODY, { id: 'msg_svix' })),
      ...swHeaders(BODY, { id: 'msg_std', secret: SW_OTHER }),
    };
    assert.deepEqual(verifier.verify(delivery(badStandard, BODY), NOW_MS), {
      ok: false,
      reason: 'signature',
    });
  });

  it('families are never mixed: webhook-id with svix-timestamp and svix-signature is refused', () => {
    const svix = asSvix(swHeaders(BODY, { id: 'msg_1' }));
    const mixed = {
      'webhook-id': 'msg_1',
      'svix-timestamp': svix['svix-timestamp'] ?? '',
      'svix-signature': svix['svix-signature'] ?? '',
    };
    assert.deepEqual(verifier.verify(delivery(mixed, BODY), NOW_MS), {
      ok: false,
      reason: 'missing-header',
    });
  });
});

describe('webhook verifier: Slack url_verification', () => {
  const verifier = createWebhookVerifier(webhookSource('slack', ['slack-secret']));
  const signed = (body: string): Record<string, string> => ({
    'x-slack-request-timestamp': String(NOW_S),
    'x-slack-signature': signSlack({ secret: 'slack-secret', timestamp: NOW_S, body }),
  });
  const HANDSHAKE =
    '{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}';

  it('a signed url_verification yields its challenge', () => {
    const result = verifier.verify(delivery(signed(HANDSHAKE), HANDSHAKE), NOW_MS);
    assert.ok(result.ok);
    assert.equal(result.challenge, '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P');
  });

  it('an unsigned or wrongly signed url_verification is refused like any delivery', () => {
    assert.deepEqual(verifier.verify(delivery({}, HANDSHAKE), NOW_MS), {
      ok: false,
      reason: 'missing-header',
    });
    const other = {
      ...signed(HANDSHAKE),
      'x-slack-signature': signSlack({ secret: 'other', timestamp: NOW_S, body: HANDSHAKE }),
    };
    assert.deepEqual(verifier.verify(delivery(other, HANDSHAKE), NOW_MS), {
      ok: false,
      reason: 'signature',
    });
  });

  it('a url_verification without a usable challenge is malformed; other types are events', () => {
    for (const body of [
      '{"type":"url_verification"}',
      '{"type":"url_verification","challenge":""}',
      '{"type":"url_verification","challenge":42}',
      `{"type":"url_verification","challenge":"${'x'.repeat(257)}"}`,
    ]) {
      assert.deepEqual(verifier.verify(delivery(signed(body), body), NOW_MS), {
        ok: false,
        reason: 'malformed',
      });
    }
    const event = '{"type":"event_callback","challenge":"c","event_id":"Ev1"}';
    assert.deepEqual(verifier.verify(delivery(signed(event), event), NOW_MS), {
      ok: true,
      deliveryId: 'Ev1',
      timestamp: NOW_S,
    });
  });

  it('a delivery_id_pointer does not apply to the handshake, which has no such field', () => {
    const pointed = createWebhookVerifier(
      webhookSource('slack', ['slack-secret'], { deliveryIdPointer: '/event/client_msg_id' }),
    );
    const result = pointed.verify(delivery(signed(HANDSHAKE), HANDSHAKE), NOW_MS);
    assert.ok(result.ok);
    assert.equal(result.challenge, '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P');
  });
});

describe('webhook verifier: delivery ids', () => {
  it('standard-webhooks: an id of 257 characters or an empty id fails with delivery-id; 256 passes', () => {
    const verifier = createWebhookVerifier(webhookSource('standard-webhooks', [SW_SECRET]));
    for (const [id, ok] of [
      ['x'.repeat(256), true],
      ['x'.repeat(257), false],
      ['', false],
    ] as const) {
      const result = verifier.verify(delivery(swHeaders(BODY, { id }), BODY), NOW_MS);
      assert.deepEqual(
        result,
        ok ? { ok: true, deliveryId: id, timestamp: NOW_S } : { ok: false, reason: 'delivery-id' },
      );
    }
  });

  it('stripe: a verified body without an id member fails with delivery-id, as does a non-JSON body', () => {
    const verifier = createWebhookVerifier(webhookSource('stripe', ['whsec_s']));
    for (const body of ['{"object":"event"}', 'not json', '{"id":{},"x":1}', '{"id":""}']) {
      const header = signStripe({ secret: 'whsec_s', timestamp: NOW_S, body });
      assert.deepEqual(verifier.verify(delivery({ 'stripe-signature': header }, body), NOW_MS), {
        ok: false,
        reason: 'delivery-id',
      });
    }
  });

  it('slack: a JSON event uses its event_id', () => {
    const verifier = createWebhookVerifier(webhookSource('slack', ['slack-secret']));
    const headers = timestamped.slack?.(NOW_S) ?? assert.fail();
    assert.deepEqual(verifier.verify(delivery(headers, BODY), NOW_MS), {
      ok: true,
      deliveryId: 'Ev0001',
      timestamp: NOW_S,
    });
  });

  it('slack: a form body gets the sha256 of the signed content, so a re-signed retry is a new id', () => {
    const verifier = createWebhookVerifier(webhookSource('slack', ['slack-secret']));
    const body = 'command=%2Fdeploy&text=now';
    const at = (t: number) => ({
      'x-slack-request-timestamp': String(t),
      'x-slack-signature': signSlack({ secret: 'slack-secret', timestamp: t, body }),
    });
    const first = verifier.verify(delivery(at(NOW_S), body), NOW_MS);
    const again = verifier.verify(delivery(at(NOW_S), body), NOW_MS);
    const later = verifier.verify(delivery(at(NOW_S + 1), body), NOW_MS);
    assert.ok(first.ok && again.ok && later.ok);
    const expected = createHmac('sha256', '').digest('hex').length;
    assert.equal(first.deliveryId.length, expected);
    assert.equal(first.deliveryId, again.deliveryId);
    assert.notEqual(first.deliveryId, later.deliveryId);
  });

  it('a delivery_id_pointer replaces the profile rule: github needs no X-GitHub-Delivery then', () => {
    const body = '{"hook":{"delivery":"abc-123"},"seq":9007199254740993}';
    const signature = { 'x-hub-signature-256': signGithub({ secret: 'gh', body }) };
    const byString = createWebhookVerifier(
      webhookSource('github', ['gh'], { deliveryIdPointer: '/hook/delivery' }),
    );
    assert.deepEqual(byString.verify(delivery(signature, body), NOW_MS), {
      ok: true,
      deliveryId: 'abc-123',
    });
    const byNumber = createWebhookVerifier(
      webhookSource('github', ['gh'], { deliveryIdPointer: '/seq' }),
    );
    assert.deepEqual(byNumber.verify(delivery(signature, body), NOW_MS), {
      ok: true,
      deliveryId: '9007199254740993',
    });
    const missing = createWebhookVerifier(
      webhookSource('github', ['gh'], { deliveryIdPointer: '/nope' }),
    );
    assert.deepEqual(
      missing.verify(delivery({ ...signature, 'x-github-delivery': 'd-1' }, body), NOW_MS),
      {
        ok: false,
        reason: 'delivery-id',
      },
    );
  });

  it('a delivery_id_pointer replaces webhook-id for standard-webhooks too (which still signs it)', () => {
    const verifier = createWebhookVerifier(
      webhookSource('standard-webhooks', [SW_SECRET], { deliveryIdPointer: '/id' }),
    );
    assert.deepEqual(verifier.verify(delivery(swHeaders(BODY), BODY), NOW_MS), {
      ok: true,
      deliveryId: 'evt_1',
      timestamp: NOW_S,
    });
  });
});

describe('webhook verifier: construction and robustness', () => {
  for (const [profile, secrets] of [
    ['github', ['']],
    ['stripe', []],
    ['slack', ['distinct-secret-value', '']],
    ['standard-webhooks', ['whsec_not base64!']],
    ['standard-webhooks', ['whsec_AAA']],
  ] as const) {
    it(`${profile} with secrets ${JSON.stringify(secrets)} throws at startup without echoing them`, () => {
      assert.throws(
        () => createWebhookVerifier(webhookSource(profile, secrets)),
        (error) =>
          error instanceof Error && !secrets.some((s) => s !== '' && error.message.includes(s)),
      );
    });
  }

  it('signTestDelivery signs a delivery every profile accepts', () => {
    const sources = [
      webhookSource('standard-webhooks', [SW_SECRET]),
      webhookSource('github', ['gh']),
      webhookSource('stripe', ['whsec_s']),
      webhookSource('slack', ['slack-secret']),
      webhookSource('hmac', ['h'], {
        hmac: {
          header: 'X-Sig',
          algorithm: 'sha512',
          encoding: 'base64',
          timestampHeader: 'X-Ts',
          signedContent: '{timestamp}:{body}',
          deliveryIdHeader: 'X-Id',
        },
      }),
    ];
    for (const config of sources) {
      const headers = signTestDelivery(config, { body: BODY, nowMs: NOW_MS, deliveryId: 'test-1' });
      const result = createWebhookVerifier(config).verify(delivery(headers, BODY), NOW_MS);
      assert.ok(result.ok, `${config.profile}: ${result.ok ? '' : result.reason}`);
      const expected =
        config.profile === 'stripe' ? 'evt_1' : config.profile === 'slack' ? 'Ev0001' : 'test-1';
      assert.equal(result.deliveryId, expected);
    }
  });

  it('odd header shapes never throw: empty value lists, junk, huge values, non-UTF-8 bodies', () => {
    const verifiers = (['standard-webhooks', 'github', 'stripe', 'slack'] as const).map((profile) =>
      createWebhookVerifier(
        webhookSource(profile, [profile === 'standard-webhooks' ? SW_SECRET : 'k']),
      ),
    );
    const junk = [
      '',
      ',',
      '=',
      'v1,',
      'v1=',
      't=',
      't=1,v1=',
      'sha256=',
      'v0=',
      ' '.repeat(5000),
      '\u00ff'.repeat(300),
    ];
    const names = [
      'webhook-id',
      'webhook-timestamp',
      'webhook-signature',
      'x-hub-signature-256',
      'x-github-delivery',
      'stripe-signature',
      'x-slack-signature',
      'x-slack-request-timestamp',
    ];
    for (const verifier of verifiers) {
      assert.deepEqual(verifier.verify(delivery({ 'webhook-id': [] }, ''), NOW_MS).ok, false);
      for (const value of junk) {
        const headers = Object.fromEntries(names.map((name) => [name, value]));
        const result = verifier.verify(delivery(headers, Buffer.from([0xff, 0xfe, 0x00])), NOW_MS);
        assert.equal(result.ok, false);
      }
    }
  });
});

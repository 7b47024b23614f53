import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import type { WebhookSourceConfig } from '../../src/config/types.ts';
import { toJsonPointer } from '../../src/json/pointer.ts';
import {
  buildEnvelope,
  DEFAULT_HEADER_ALLOW_LISTS,
  defaultHeaderAllowList,
  envelopePartitionKey,
} from '../../src/webhooks/envelope.ts';
import type { EnvelopeInput } from '../../src/webhooks/envelope.ts';
import { webhookSource } from '../helpers/webhook-source.ts';
import { readDeliveryBody } from '../../src/webhooks/delivery-body.ts';

const RECEIVED_AT = Date.UTC(2024, 0, 2, 3, 4, 5, 678);

const Envelope = z.strictObject({
  source: z.string(),
  delivery_id: z.string(),
  received_at: z.string(),
  headers: z.record(z.string(), z.string()),
  body: z.unknown().optional(),
  body_text: z.string().optional(),
  body_base64: z.string().optional(),
});

function envelope(body: Buffer | string, overrides: Partial<EnvelopeInput> = {}): Buffer {
  return buildEnvelope({
    source: 'gh-main',
    deliveryId: 'd-1',
    receivedAt: RECEIVED_AT,
    headers: { 'content-type': ['application/json'] },
    headerAllowList: ['content-type'],
    body: readDeliveryBody(typeof body === 'string' ? Buffer.from(body, 'utf8') : body),
    ...overrides,
  });
}

function source(
  profile: WebhookSourceConfig['profile'],
  extra: Partial<WebhookSourceConfig> = {},
): WebhookSourceConfig {
  return webhookSource(profile, ['s'], { maxBodyBytes: 1024, ...extra });
}

describe('webhook envelope', () => {
  it('a JSON body goes in compacted, digit for digit, with source, delivery id and ISO time', () => {
    const body =
      '{\n  "n": 9007199254740993,\n  "big": 1e400,\n  "price": 0.10,\n  "s": "a  b\\n"\n}';
    const bytes = envelope(body);
    assert.equal(
      bytes.toString('utf8'),
      '{"source":"gh-main","delivery_id":"d-1","received_at":"2024-01-02T03:04:05.678Z",' +
        '"headers":{"content-type":"application/json"},' +
        '"body":{"n":9007199254740993,"big":1e400,"price":0.10,"s":"a  b\\n"}}',
    );
    const parsed = Envelope.parse(JSON.parse(bytes.toString('utf8')));
    // What a plain JSON.parse consumer then sees (the text above is what a strict one can read).
    assert.deepEqual(parsed.body, { n: 2 ** 53, big: Infinity, price: 0.1, s: 'a  b\n' });
  });

  it('non-ASCII JSON stays as UTF-8 text; a leading byte order mark is dropped', () => {
    const bytes = envelope('\uFEFF{"name": "Zoë ✓ 😀"}');
    assert.ok(bytes.toString('utf8').endsWith('"body":{"name":"Zoë ✓ 😀"}}'));
  });

  it('a form-encoded body (Slack) is kept as body_text', () => {
    const form = 'token=xyz&text=hello+world&response_url=https%3A%2F%2Fhooks.slack.com';
    const parsed = Envelope.parse(JSON.parse(envelope(form).toString('utf8')));
    assert.equal(parsed.body_text, form);
    assert.equal(parsed.body, undefined);
    assert.equal(parsed.body_base64, undefined);
  });

  it('JSON with a trailing comma or a second value is not JSON: body_text, unchanged', () => {
    for (const text of ['{"a":1,}', '{"a":1} {"b":2}', '']) {
      const parsed = Envelope.parse(JSON.parse(envelope(text).toString('utf8')));
      assert.equal(parsed.body_text, text);
    }
  });

  it('a body that is not valid UTF-8 is kept as body_base64', () => {
    const binary = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0xc0, 0xaf, 0x7d, 0x00, 0xff]);
    const parsed = Envelope.parse(JSON.parse(envelope(binary).toString('utf8')));
    assert.equal(parsed.body_base64, binary.toString('base64'));
    assert.equal(parsed.body_text, undefined);
  });

  it('JSON nested deeper than the limit is forwarded as text rather than dropped', () => {
    const deep = `${'['.repeat(600)}${']'.repeat(600)}`;
    const parsed = Envelope.parse(JSON.parse(envelope(deep).toString('utf8')));
    assert.equal(parsed.body_text, deep);
  });

  it('headers: allow-listed only, lowercased, first value; signature and credential headers never', () => {
    const bytes = envelope('{}', {
      headers: {
        'Content-Type': ['application/json'],
        'x-github-event': ['push', 'ping'],
        'x-hub-signature-256': ['sha256=abc'],
        'webhook-signature': ['v1,abc'],
        'stripe-signature': ['t=1,v1=abc'],
        'x-slack-signature': ['v0=abc'],
        authorization: ['Bearer secret-token'],
        cookie: ['session=1'],
        'x-not-listed': ['nope'],
      },
      headerAllowList: [
        'content-type',
        'X-GitHub-Event',
        'x-hub-signature-256',
        'webhook-signature',
        'stripe-signature',
        'x-slack-signature',
        'authorization',
        'cookie',
        'x-absent',
      ],
    });
    const parsed = Envelope.parse(JSON.parse(bytes.toString('utf8')));
    assert.deepEqual(parsed.headers, {
      'content-type': 'application/json',
      'x-github-event': 'push',
    });
    for (const secret of ['abc', 'secret-token', 'session']) {
      assert.ok(!bytes.toString('utf8').includes(secret), `${secret} leaked`);
    }
  });

  it('the default allow-lists name no signature header, for any profile', () => {
    const signatureHeaders = [
      'webhook-signature',
      'svix-signature',
      'x-hub-signature-256',
      'x-hub-signature',
      'stripe-signature',
      'x-slack-signature',
    ];
    for (const list of Object.values(DEFAULT_HEADER_ALLOW_LISTS)) {
      for (const name of signatureHeaders) assert.ok(!list.includes(name));
    }
    assert.ok(DEFAULT_HEADER_ALLOW_LISTS.github.includes('x-github-delivery'));
    assert.deepEqual(DEFAULT_HEADER_ALLOW_LISTS['standard-webhooks'], [
      'content-type',
      'webhook-id',
      'webhook-timestamp',
      'svix-id',
      'svix-timestamp',
    ]);
  });

  it('hmac: the default allow-list adds its delivery id and timestamp headers, never its signature header', () => {
    const list = defaultHeaderAllowList(
      source('hmac', {
        hmac: {
          header: 'X-Sig',
          algorithm: 'sha256',
          encoding: 'hex',
          timestampHeader: 'X-Ts',
          deliveryIdHeader: 'X-Id',
        },
      }),
    );
    assert.deepEqual(list, ['content-type', 'user-agent', 'x-id', 'x-ts']);
    const sneaky = defaultHeaderAllowList(
      source('hmac', {
        hmac: { header: 'X-Sig', algorithm: 'sha256', encoding: 'hex', deliveryIdHeader: 'x-sig' },
      }),
    );
    assert.deepEqual(sneaky, ['content-type', 'user-agent']);
    assert.equal(defaultHeaderAllowList(source('slack')), DEFAULT_HEADER_ALLOW_LISTS.slack);
  });
});

describe('envelope partition key', () => {
  const pointer = (text: string) => toJsonPointer(text, 'partition_key_pointer');
  const bytes = Buffer.from(
    '{"user": {"id": "u-7", "n": 12345678901234567890, "o": {}}, "long": "' +
      'x'.repeat(257) +
      '"}',
  );
  const body = () => readDeliveryBody(bytes);

  it('without a pointer it is the delivery id', () => {
    assert.equal(envelopePartitionKey(undefined, 'd-1', body()), 'd-1');
  });

  it('a pointer to a string gives the string; to a number, its digits as sent', () => {
    assert.equal(envelopePartitionKey(pointer('/user/id'), 'd-1', body()), 'u-7');
    assert.equal(envelopePartitionKey(pointer('/user/n'), 'd-1', body()), '12345678901234567890');
  });

  it('a pointer to nothing, to an object, to a too-long string or into a non-JSON body falls back to the delivery id', () => {
    for (const text of ['/user/missing', '/user/o', '/long']) {
      assert.equal(envelopePartitionKey(pointer(text), 'd-1', body()), 'd-1');
    }
    const form = readDeliveryBody(Buffer.from('user=u-7'));
    assert.equal(envelopePartitionKey(pointer('/user'), 'd-2', form), 'd-2');
  });
});

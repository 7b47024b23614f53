import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import type { HmacProfileConfig, WebhookSourceConfig } from '../../src/config/types.ts';
import { readDeliveryBody } from '../../src/webhooks/delivery-body.ts';
import { signHmac } from '../../src/webhooks/sign.ts';
import type { WebhookRequest } from '../../src/webhooks/types.ts';
import { createWebhookVerifier } from '../../src/webhooks/verifier.ts';
import { webhookSource } from '../helpers/webhook-source.ts';

const NOW_S = 1_700_000_000;
const NOW_MS = NOW_S * 1000;
const SECRET = 'shpss_0123456789abcdef';
const BODY = '{"order": {"id": 42}, "total": "9.99"}';

function hmacSource(
  hmac: HmacProfileConfig,
  secrets: readonly string[] = [SECRET],
): WebhookSourceConfig {
  return webhookSource('hmac', secrets, { hmac });
}

function delivery(headers: Readonly<Record<string, string>>, body: string = BODY): WebhookRequest {
  return {
    headers: Object.fromEntries(
      Object.entries(headers).map(([name, value]) => [name.toLowerCase(), [value]]),
    ),
    body: readDeliveryBody(Buffer.from(body, 'utf8')),
  };
}

describe('hmac profile', () => {
  it('sha256 hex over the body alone, no prefix: verifies; the id is the sha256 hex of the body', () => {
    const hmac: HmacProfileConfig = { header: 'X-Signature', algorithm: 'sha256', encoding: 'hex' };
    const signature = createHmac('sha256', SECRET).update(BODY).digest('hex');
    assert.equal(signHmac(hmac, { secret: SECRET, body: BODY }), signature);
    const result = createWebhookVerifier(hmacSource(hmac)).verify(
      delivery({ 'X-Signature': signature }),
      NOW_MS,
    );
    assert.deepEqual(result, {
      ok: true,
      deliveryId: createHash('sha256').update(BODY).digest('hex'),
    });
  });

  it('sha256 Base64 with a prefix (Shopify-like): verifies; the same bytes in hex do not', () => {
    const hmac: HmacProfileConfig = {
      header: 'X-Shop-Hmac',
      algorithm: 'sha256',
      encoding: 'base64',
      prefix: 'sha256=',
    };
    const digest = createHmac('sha256', SECRET).update(BODY).digest();
    const verifier = createWebhookVerifier(hmacSource(hmac));
    const good = verifier.verify(
      delivery({ 'X-Shop-Hmac': `sha256=${digest.toString('base64')}` }),
      NOW_MS,
    );
    assert.ok(good.ok);
    // Hex digits are Base64 characters too: the text decodes (to 48 bytes) and cannot match.
    const hex = verifier.verify(
      delivery({ 'X-Shop-Hmac': `sha256=${digest.toString('hex')}` }),
      NOW_MS,
    );
    assert.deepEqual(hex, { ok: false, reason: 'signature' });
    const unpadded = digest.toString('base64').replace(/=+$/, '');
    const loose = verifier.verify(delivery({ 'X-Shop-Hmac': `sha256=${unpadded}` }), NOW_MS);
    assert.deepEqual(loose, { ok: false, reason: 'malformed' }, 'Base64 must be padded');
  });

  it('a missing or different prefix is malformed', () => {
    const hmac: HmacProfileConfig = {
      header: 'X-Sig',
      algorithm: 'sha256',
      encoding: 'hex',
      prefix: 'sha256=',
    };
    const hex = createHmac('sha256', SECRET).update(BODY).digest('hex');
    const verifier = createWebhookVerifier(hmacSource(hmac));
    for (const value of [hex, `sha1=${hex}`, `SHA256=${hex}`]) {
      assert.deepEqual(verifier.verify(delivery({ 'X-Sig': value }), NOW_MS), {
        ok: false,
        reason: 'malformed',
      });
    }
  });

  it('sha512 hex: verifies, and a sha256 signature of the same content (wrong length) fails', () => {
    const hmac: HmacProfileConfig = { header: 'X-Sig', algorithm: 'sha512', encoding: 'hex' };
    const verifier = createWebhookVerifier(hmacSource(hmac));
    const sha512 = createHmac('sha512', SECRET).update(BODY).digest('hex');
    assert.ok(verifier.verify(delivery({ 'X-Sig': sha512 }), NOW_MS).ok);
    const sha256 = createHmac('sha256', SECRET).update(BODY).digest('hex');
    assert.deepEqual(verifier.verify(delivery({ 'X-Sig': sha256 }), NOW_MS), {
      ok: false,
      reason: 'signature',
    });
  });

  it('sha512 Base64 with a padded digest round-trips through signHmac', () => {
    const hmac: HmacProfileConfig = { header: 'X-Sig', algorithm: 'sha512', encoding: 'base64' };
    const signature = signHmac(hmac, { secret: SECRET, body: BODY });
    assert.equal(signature, createHmac('sha512', SECRET).update(BODY).digest('base64'));
    assert.ok(
      createWebhookVerifier(hmacSource(hmac)).verify(delivery({ 'X-Sig': signature }), NOW_MS).ok,
    );
  });

  describe('with a timestamp header and template "{timestamp}.{body}"', () => {
    const hmac: HmacProfileConfig = {
      header: 'X-Sig',
      algorithm: 'sha256',
      encoding: 'hex',
      timestampHeader: 'X-Timestamp',
      signedContent: '{timestamp}.{body}',
      deliveryIdHeader: 'X-Delivery',
    };
    const verifier = createWebhookVerifier(hmacSource(hmac));
    const signed = (t: number, id = 'del-1'): Record<string, string> => ({
      'X-Timestamp': String(t),
      'X-Delivery': id,
      'X-Sig': createHmac('sha256', SECRET).update(`${t}.${BODY}`).digest('hex'),
    });

    it('the signed content is timestamp + "." + body and the id comes from the delivery header', () => {
      assert.equal(
        signHmac(hmac, { secret: SECRET, timestamp: NOW_S, body: BODY }),
        signed(NOW_S)['X-Sig'],
      );
      assert.deepEqual(verifier.verify(delivery(signed(NOW_S)), NOW_MS), {
        ok: true,
        deliveryId: 'del-1',
        timestamp: NOW_S,
      });
    });

    it('299 s off either way verifies; 301 s off either way fails with timestamp', () => {
      for (const offset of [-299, 299])
        assert.ok(verifier.verify(delivery(signed(NOW_S + offset)), NOW_MS).ok);
      for (const offset of [-301, 301]) {
        assert.deepEqual(verifier.verify(delivery(signed(NOW_S + offset)), NOW_MS), {
          ok: false,
          reason: 'timestamp',
        });
      }
    });

    it('moving the signature to another timestamp fails: the timestamp is signed', () => {
      const headers = { ...signed(NOW_S), 'X-Timestamp': String(NOW_S + 1) };
      assert.deepEqual(verifier.verify(delivery(headers), NOW_MS), {
        ok: false,
        reason: 'signature',
      });
    });

    it('without the timestamp header it fails; without the delivery header too', () => {
      const noTimestamp = signed(NOW_S);
      delete noTimestamp['X-Timestamp'];
      assert.deepEqual(verifier.verify(delivery(noTimestamp), NOW_MS), {
        ok: false,
        reason: 'missing-header',
      });
      const noDelivery = signed(NOW_S);
      delete noDelivery['X-Delivery'];
      assert.deepEqual(verifier.verify(delivery(noDelivery), NOW_MS), {
        ok: false,
        reason: 'missing-header',
      });
    });
  });

  it('rotation: either of two secrets verifies', () => {
    const hmac: HmacProfileConfig = { header: 'X-Sig', algorithm: 'sha256', encoding: 'hex' };
    const verifier = createWebhookVerifier(hmacSource(hmac, ['first-secret', 'second-secret']));
    for (const secret of ['first-secret', 'second-secret']) {
      assert.ok(
        verifier.verify(delivery({ 'X-Sig': signHmac(hmac, { secret, body: BODY }) }), NOW_MS).ok,
      );
    }
    const other = signHmac(hmac, { secret: 'third-secret', body: BODY });
    assert.deepEqual(verifier.verify(delivery({ 'X-Sig': other }), NOW_MS), {
      ok: false,
      reason: 'signature',
    });
  });

  for (const [why, hmac] of [
    ['a template without {body}', { signedContent: '{timestamp}', timestampHeader: 'X-Ts' }],
    ['{timestamp} without a timestamp header', { signedContent: '{timestamp}.{body}' }],
    ['an unknown placeholder', { signedContent: '{id}.{body}' }],
  ] as const) {
    it(`${why} is refused at startup`, () => {
      assert.throws(() =>
        createWebhookVerifier(
          hmacSource({ header: 'X-Sig', algorithm: 'sha256', encoding: 'hex', ...hmac }),
        ),
      );
    });
  }

  it('profile hmac without its settings is refused at startup', () => {
    const withoutHmac = webhookSource('hmac', [SECRET]);
    assert.throws(() => createWebhookVerifier(withoutHmac), /hmac settings/);
  });
});

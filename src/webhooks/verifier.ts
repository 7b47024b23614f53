import { InvalidOptionError } from '../errors/coded-error.ts';
import type { WebhookSourceConfig } from '../config/types.ts';
import { toJsonPointer } from '../json/pointer.ts';
import { deliveryIdAtPointer } from './delivery-id.ts';
import { createGithubProfile } from './github.ts';
import { createHmacProfile } from './hmac-profile.ts';
import { normalizeHeaders } from './request-headers.ts';
import { createSlackProfile } from './slack.ts';
import { createStandardWebhooksProfile } from './standard-webhooks.ts';
import { createStripeProfile } from './stripe.ts';
import type { ProfileVerifier, WebhookVerifier } from './types.ts';

function createProfile(source: WebhookSourceConfig): ProfileVerifier {
  const { secrets, toleranceS } = source;
  switch (source.profile) {
    case 'standard-webhooks':
      return createStandardWebhooksProfile({ secrets, toleranceS });
    case 'github':
      return createGithubProfile({ secrets });
    case 'stripe':
      return createStripeProfile({ secrets, toleranceS });
    case 'slack':
      return createSlackProfile({ secrets, toleranceS });
    case 'hmac':
      if (source.hmac === undefined)
        throw new InvalidOptionError('profile hmac needs its hmac settings');
      return createHmacProfile({ secrets, toleranceS, hmac: source.hmac });
  }
}

/**
 * Checks a delivery over its exact raw bytes, then names its delivery id. Throws at startup on a bad
 * secret or profile setting. `deliveryIdPointer`, when configured, replaces the profile's own id
 * rule (header, Stripe's `id`, Slack's `event_id`, content hash) for every profile, hmac included:
 * the id is then the string or number at that pointer in the verified body, and a body without
 * one fails with 'delivery-id'. Once the signature holds, `verify` reads the body (UTF-8, one JSON
 * scan deep enough for the id and the source's `partitionKeyPointer`), and the envelope reuses that
 * reading. A verified handshake (Slack's url_verification) yields its `challenge`, with the
 * profile's own id for logs. `verify` never throws: every failure is a value.
 */
export function createWebhookVerifier(source: WebhookSourceConfig): WebhookVerifier {
  const profile = createProfile(source);
  const pointer = toJsonPointer(source.deliveryIdPointer, 'delivery_id_pointer');
  const partitionKeyPointer = toJsonPointer(source.partitionKeyPointer, 'partition_key_pointer');
  // Deep enough for the id and for the envelope's partition key, so that nothing scans it again.
  const readDepth = Math.max(
    pointer === undefined ? profile.jsonDepth : pointer.length,
    partitionKeyPointer?.length ?? 0,
  );
  return {
    verify(request, nowMs) {
      const headers = normalizeHeaders(request.headers);
      const checked = profile.check(headers, request.body, Math.floor(nowMs / 1000));
      if (!checked.ok) return checked;
      // Not before: an unsigned request must cost no scan.
      request.body.json(readDepth);
      // Before the configured id: a handshake's body has none of the fields a pointer names.
      const handshake = checked.handshake?.();
      if (handshake !== undefined && !handshake.ok) return handshake;
      if (handshake?.challenge !== undefined) {
        const own = checked.deliveryId();
        if (!own.ok) return own;
        return { ok: true, deliveryId: own.deliveryId, challenge: handshake.challenge };
      }
      const id =
        pointer === undefined ? checked.deliveryId() : deliveryIdAtPointer(request.body, pointer);
      if (!id.ok) return id;
      return checked.timestamp === undefined
        ? { ok: true, deliveryId: id.deliveryId }
        : { ok: true, deliveryId: id.deliveryId, timestamp: checked.timestamp };
    },
  };
}

import { InvalidOptionError } from '../errors/coded-error.ts';
import type { HmacProfileConfig, WebhookSourceConfig } from '../config/types.ts';
import { fillTemplate, parseSignedContentTemplate } from './hmac-profile.ts';
import { GITHUB_DELIVERY_HEADER, GITHUB_SIGNATURE_HEADER } from './github.ts';
import { standardWebhooksKey, textKey } from './secrets.ts';
import { hmacDigest } from './signature-match.ts';
import { SLACK_SIGNATURE_HEADER, SLACK_TIMESTAMP_HEADER, slackContent } from './slack.ts';
import { standardWebhooksContent } from './standard-webhooks.ts';
import { STRIPE_SIGNATURE_HEADER, stripeContent } from './stripe.ts';
import { parseTimestamp } from './timestamp.ts';

// Signing as each provider does: for tests and for the README's "send a signed test delivery".
// Built from the same content and key functions as the verifiers, and pinned to published vectors.

type Body = Buffer | string;

const bytes = (body: Body): Buffer => (typeof body === 'string' ? Buffer.from(body, 'utf8') : body);

/** Integer seconds as the header text; anything else is a signing error (fixture sign_errors). */
function timestampText(timestamp: number | string): string {
  const text = typeof timestamp === 'number' ? String(timestamp) : timestamp;
  if (parseTimestamp(text) === undefined) {
    throw new InvalidOptionError('a webhook timestamp must be non-negative integer seconds');
  }
  return text;
}

export interface StandardWebhookSignInput {
  readonly secret: string;
  readonly id: string;
  readonly timestamp: number | string;
  readonly body: Body;
}

/** `v1,<base64>` for the `webhook-signature` header. */
export function signStandardWebhook(input: StandardWebhookSignInput): string {
  const timestamp = timestampText(input.timestamp);
  if (input.id.includes('.')) throw new InvalidOptionError('a webhook-id must not contain "."');
  const content = standardWebhooksContent(input.id, timestamp, bytes(input.body));
  const digest = hmacDigest('sha256', standardWebhooksKey(input.secret), content);
  return `v1,${digest.toString('base64')}`;
}

/** `sha256=<hex>` for `X-Hub-Signature-256`. */
export function signGithub(input: { readonly secret: string; readonly body: Body }): string {
  const digest = hmacDigest('sha256', textKey(input.secret), [bytes(input.body)]);
  return `sha256=${digest.toString('hex')}`;
}

/** `t=<ts>,v1=<hex>` for `Stripe-Signature`. */
export function signStripe(input: {
  readonly secret: string;
  readonly timestamp: number | string;
  readonly body: Body;
}): string {
  const timestamp = timestampText(input.timestamp);
  const digest = hmacDigest(
    'sha256',
    textKey(input.secret),
    stripeContent(timestamp, bytes(input.body)),
  );
  return `t=${timestamp},v1=${digest.toString('hex')}`;
}

/** `v0=<hex>` for `X-Slack-Signature`. */
export function signSlack(input: {
  readonly secret: string;
  readonly timestamp: number | string;
  readonly body: Body;
}): string {
  const timestamp = timestampText(input.timestamp);
  const digest = hmacDigest(
    'sha256',
    textKey(input.secret),
    slackContent(timestamp, bytes(input.body)),
  );
  return `v0=${digest.toString('hex')}`;
}

/** The signature header's value for an hmac source (prefix included). */
export function signHmac(
  hmac: HmacProfileConfig,
  input: { readonly secret: string; readonly timestamp?: number | string; readonly body: Body },
): string {
  const timestamp = input.timestamp === undefined ? undefined : timestampText(input.timestamp);
  const template = parseSignedContentTemplate(
    hmac.signedContent,
    hmac.timestampHeader !== undefined,
  );
  const content = fillTemplate(template, timestamp, bytes(input.body));
  const digest = hmacDigest(hmac.algorithm, textKey(input.secret), content);
  return `${hmac.prefix ?? ''}${digest.toString(hmac.encoding)}`;
}

export interface TestDeliveryInput {
  readonly body: Body;
  readonly nowMs: number;
  /** webhook-id, X-GitHub-Delivery or the hmac delivery id header; Stripe and Slack read the body. */
  readonly deliveryId: string;
}

/** Every header a source's sender would set (lowercased), signed with its first secret. */
export function signTestDelivery(
  source: WebhookSourceConfig,
  input: TestDeliveryInput,
): Record<string, string> {
  const secret = source.secrets[0];
  if (secret === undefined) throw new InvalidOptionError('the source has no secret');
  const timestamp = String(Math.floor(input.nowMs / 1000));
  const { body, deliveryId } = input;
  switch (source.profile) {
    case 'standard-webhooks':
      return {
        'webhook-id': deliveryId,
        'webhook-timestamp': timestamp,
        'webhook-signature': signStandardWebhook({ secret, id: deliveryId, timestamp, body }),
      };
    case 'github':
      return {
        [GITHUB_DELIVERY_HEADER]: deliveryId,
        [GITHUB_SIGNATURE_HEADER]: signGithub({ secret, body }),
      };
    case 'stripe':
      return { [STRIPE_SIGNATURE_HEADER]: signStripe({ secret, timestamp, body }) };
    case 'slack':
      return {
        [SLACK_TIMESTAMP_HEADER]: timestamp,
        [SLACK_SIGNATURE_HEADER]: signSlack({ secret, timestamp, body }),
      };
    case 'hmac': {
      const { hmac } = source;
      if (hmac === undefined) throw new InvalidOptionError('profile hmac needs its hmac settings');
      const headers: Record<string, string> = {};
      if (hmac.timestampHeader !== undefined)
        headers[hmac.timestampHeader.toLowerCase()] = timestamp;
      if (hmac.deliveryIdHeader !== undefined)
        headers[hmac.deliveryIdHeader.toLowerCase()] = deliveryId;
      headers[hmac.header.toLowerCase()] = signHmac(hmac, {
        secret,
        ...(hmac.timestampHeader === undefined ? {} : { timestamp }),
        body,
      });
      return headers;
    }
  }
}

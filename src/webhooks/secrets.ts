import { InvalidOptionError } from '../errors/coded-error.ts';

// Turning configured secrets into HMAC keys, once at startup. A bad secret throws here so the
// gateway refuses to start instead of answering 401 to every delivery. Messages never include it.

export const STANDARD_WEBHOOKS_SECRET_PREFIX = 'whsec_';

// Same rule as config (build-tables.ts): standard padded Base64, optional `whsec_`. The official
// libraries also take the secret without the prefix; Python pads unpadded text before decoding
// (fixture sw-v-30), but such a secret is usually a truncated copy, so it is refused here.
const PADDED_BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** `whsec_` + Base64 → the decoded key bytes. */
export function standardWebhooksKey(secret: string): Buffer {
  const encoded = secret.startsWith(STANDARD_WEBHOOKS_SECRET_PREFIX)
    ? secret.slice(STANDARD_WEBHOOKS_SECRET_PREFIX.length)
    : secret;
  if (encoded.length === 0 || encoded.length % 4 !== 0 || !PADDED_BASE64.test(encoded)) {
    throw new InvalidOptionError(
      'a standard-webhooks secret must be whsec_ followed by padded Base64',
    );
  }
  const key = Buffer.from(encoded, 'base64');
  if (key.length === 0)
    throw new InvalidOptionError('a standard-webhooks secret must not decode to zero bytes');
  return key;
}

/** GitHub, Stripe (the whole `whsec_...` string), Slack and hmac: the secret's UTF-8 bytes. */
export function textKey(secret: string): Buffer {
  if (secret.length === 0) throw new InvalidOptionError('a webhook secret must not be empty');
  return Buffer.from(secret, 'utf8');
}

export function toKeys(secrets: readonly string[], toKey: (secret: string) => Buffer): Buffer[] {
  if (secrets.length === 0)
    throw new InvalidOptionError('a webhook source needs at least one secret');
  return secrets.map((secret, index) => {
    try {
      return toKey(secret);
    } catch (error) {
      const message = error instanceof Error ? error.message : 'invalid secret';
      throw new InvalidOptionError(`webhook secret ${index + 1} of ${secrets.length}: ${message}`, {
        cause: error,
      });
    }
  });
}

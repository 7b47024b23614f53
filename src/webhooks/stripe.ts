import type { JsonPointer } from '../json/pointer.ts';
import { deliveryIdAtPointer } from './delivery-id.ts';
import { singleHeader } from './request-headers.ts';
import { textKey, toKeys } from './secrets.ts';
import { anyDigestMatches, decodeSignature, hmacDigests } from './signature-match.ts';
import type { SignedContent } from './signature-match.ts';
import { checkTimestamp } from './timestamp.ts';
import { fail } from './types.ts';
import type { ProfileVerifier } from './types.ts';

// https://docs.stripe.com/webhooks#verify-manually. The key is the whole `whsec_...` string as
// bytes (not Base64-decoded, unlike standard-webhooks). stripe-node only refuses old timestamps;
// here the tolerance applies both ways.

export const STRIPE_SIGNATURE_HEADER = 'stripe-signature';
const EVENT_ID: JsonPointer = ['id'];

export function stripeContent(timestamp: string, body: Buffer): SignedContent {
  return [timestamp, '.', body];
}

type ParsedHeader =
  | { readonly ok: true; readonly timestamp: string; readonly v1: readonly string[] }
  | { readonly ok: false };

/** `t=<ts>,v1=<hex>[,v1=<hex>…][,v0=…]`: exactly one `t`; `v0` and unknown schemes ignored. */
function parseHeader(header: string): ParsedHeader {
  let timestamp: string | undefined;
  const v1: string[] = [];
  for (const item of header.split(',')) {
    const eq = item.indexOf('=');
    if (eq <= 0) return { ok: false };
    const key = item.slice(0, eq);
    const value = item.slice(eq + 1);
    if (key === 't') {
      if (timestamp !== undefined) return { ok: false };
      timestamp = value;
    } else if (key === 'v1') {
      v1.push(value);
    }
  }
  return timestamp === undefined ? { ok: false } : { ok: true, timestamp, v1 };
}

export function createStripeProfile(options: {
  readonly secrets: readonly string[];
  readonly toleranceS: number;
}): ProfileVerifier {
  const keys = toKeys(options.secrets, textKey);
  return {
    jsonDepth: EVENT_ID.length,
    check(headers, body, nowS) {
      const signature = singleHeader(headers, STRIPE_SIGNATURE_HEADER);
      if (!signature.ok) return signature;
      const parsed = parseHeader(signature.value);
      if (!parsed.ok) return fail('malformed');
      const time = checkTimestamp(parsed.timestamp, nowS, options.toleranceS);
      if (!time.ok) return time;
      const candidates = parsed.v1.flatMap((hex) => decodeSignature(hex, 'hex') ?? []);
      const expected = hmacDigests('sha256', keys, stripeContent(parsed.timestamp, body.bytes));
      if (!anyDigestMatches(expected, candidates)) return fail('signature');
      return {
        ok: true,
        timestamp: time.timestamp,
        // The event's `id` (evt_...): Stripe resends the same event with a fresh signature.
        deliveryId: () => deliveryIdAtPointer(body, EVENT_ID),
      };
    },
  };
}

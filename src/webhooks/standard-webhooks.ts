import { checkDeliveryId } from './delivery-id.ts';
import { singleHeader } from './request-headers.ts';
import { standardWebhooksKey, toKeys } from './secrets.ts';
import { anyDigestMatches, decodeSignature, hmacDigests } from './signature-match.ts';
import type { SignedContent } from './signature-match.ts';
import { checkTimestamp } from './timestamp.ts';
import { fail } from './types.ts';
import type { NormalizedHeaders, ProfileVerifier } from './types.ts';

// https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md

/**
 * The spec's header names, and Svix's: Svix sends `svix-id`, `svix-timestamp`, `svix-signature`
 * unless an account is white-labelled, signed the same way. One family is read whole, never mixed:
 * `webhook-*` when any of its headers is present, else `svix-*`. So with both families `webhook-*`
 * is verified (and `svix-*` ignored), and a request mixing them (`webhook-id` with `svix-signature`)
 * lacks a header of its family and is refused.
 */
export const STANDARD_WEBHOOKS_HEADERS = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;
export const SVIX_HEADERS = {
  id: 'svix-id',
  timestamp: 'svix-timestamp',
  signature: 'svix-signature',
} as const;

type HeaderFamily = typeof STANDARD_WEBHOOKS_HEADERS | typeof SVIX_HEADERS;

function headerFamily(headers: NormalizedHeaders): HeaderFamily {
  const names = Object.values(STANDARD_WEBHOOKS_HEADERS);
  return names.some((name) => headers.has(name)) ? STANDARD_WEBHOOKS_HEADERS : SVIX_HEADERS;
}

export function standardWebhooksContent(
  id: string,
  timestamp: string,
  body: Buffer,
): SignedContent {
  return [id, '.', timestamp, '.', body];
}

/** The `v1` signatures of a `webhook-signature` list; other versions (v1a, future ones) ignored. */
function v1Signatures(header: string): Buffer[] {
  const signatures: Buffer[] = [];
  for (const entry of header.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') continue;
    const bytes = decodeSignature(entry.slice(comma + 1), 'base64');
    if (bytes !== undefined) signatures.push(bytes);
  }
  return signatures;
}

export function createStandardWebhooksProfile(options: {
  readonly secrets: readonly string[];
  readonly toleranceS: number;
}): ProfileVerifier {
  const keys = toKeys(options.secrets, standardWebhooksKey);
  return {
    jsonDepth: 0,
    check(headers, body, nowS) {
      const family = headerFamily(headers);
      const id = singleHeader(headers, family.id);
      if (!id.ok) return id;
      const timestamp = singleHeader(headers, family.timestamp);
      if (!timestamp.ok) return timestamp;
      const signature = singleHeader(headers, family.signature);
      if (!signature.ok) return signature;
      // The spec forbids '.' in both, since '.' separates them in the signed content: otherwise
      // id 'a.1' with timestamp '2' would sign the same bytes as id 'a' with timestamp '1.2'.
      if (id.value.includes('.') || timestamp.value.includes('.')) return fail('malformed');
      const time = checkTimestamp(timestamp.value, nowS, options.toleranceS);
      if (!time.ok) return time;
      const expected = hmacDigests(
        'sha256',
        keys,
        standardWebhooksContent(id.value, timestamp.value, body.bytes),
      );
      if (!anyDigestMatches(expected, v1Signatures(signature.value))) return fail('signature');
      return { ok: true, timestamp: time.timestamp, deliveryId: () => checkDeliveryId(id.value) };
    },
  };
}

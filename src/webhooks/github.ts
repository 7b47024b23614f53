import { checkDeliveryId } from './delivery-id.ts';
import { singleHeader } from './request-headers.ts';
import { textKey, toKeys } from './secrets.ts';
import { anyDigestMatches, decodeSignature, hmacDigests } from './signature-match.ts';
import { fail } from './types.ts';
import type { ProfileVerifier } from './types.ts';

// https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
// GitHub signs no timestamp and never retries by itself, so the replay guard (keyed on
// X-GitHub-Delivery, which a manual redelivery keeps) is the only defence against replays.

export const GITHUB_SIGNATURE_HEADER = 'x-hub-signature-256';
export const GITHUB_DELIVERY_HEADER = 'x-github-delivery';
const PREFIX = 'sha256=';

export function createGithubProfile(options: {
  readonly secrets: readonly string[];
}): ProfileVerifier {
  const keys = toKeys(options.secrets, textKey);
  return {
    jsonDepth: 0,
    check(headers, body) {
      const signature = singleHeader(headers, GITHUB_SIGNATURE_HEADER);
      if (!signature.ok) return signature;
      if (!signature.value.startsWith(PREFIX)) return fail('malformed');
      const candidate = decodeSignature(signature.value.slice(PREFIX.length), 'hex');
      if (candidate === undefined) return fail('malformed');
      if (!anyDigestMatches(hmacDigests('sha256', keys, [body.bytes]), [candidate])) {
        return fail('signature');
      }
      return {
        ok: true,
        deliveryId: () => {
          const delivery = singleHeader(headers, GITHUB_DELIVERY_HEADER);
          return delivery.ok ? checkDeliveryId(delivery.value) : delivery;
        },
      };
    },
  };
}

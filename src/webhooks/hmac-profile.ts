import { InvalidOptionError } from '../errors/coded-error.ts';
import type { HmacProfileConfig } from '../config/types.ts';
import { checkDeliveryId } from './delivery-id.ts';
import { singleHeader } from './request-headers.ts';
import { textKey, toKeys } from './secrets.ts';
import { anyDigestMatches, contentHash, decodeSignature, hmacDigests } from './signature-match.ts';
import type { SignedContent } from './signature-match.ts';
import { checkTimestamp } from './timestamp.ts';
import { fail } from './types.ts';
import type { DeliveryIdResult, ProfileVerifier } from './types.ts';

// For providers without a profile: one signature header, HMAC-SHA256/512, hex or Base64, an
// optional prefix (`sha256=`), an optional timestamp header and a template of the signed content.

export type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'timestamp' }
  | { readonly kind: 'body' };

/** `{timestamp}.{body}` → parts; the body alone without a template. Config checked the same rules. */
export function parseSignedContentTemplate(
  template: string | undefined,
  hasTimestampHeader: boolean,
): readonly TemplatePart[] {
  if (template === undefined) return [{ kind: 'body' }];
  const parts: TemplatePart[] = [];
  let bodies = 0;
  for (const piece of template.split(/(\{[^}]*\})/)) {
    if (piece === '{body}') {
      bodies++;
      parts.push({ kind: 'body' });
    } else if (piece === '{timestamp}') {
      if (!hasTimestampHeader)
        throw new InvalidOptionError(
          'hmac signed_content uses {timestamp} without timestamp_header',
        );
      parts.push({ kind: 'timestamp' });
    } else if (piece.startsWith('{') && piece.endsWith('}')) {
      throw new InvalidOptionError('hmac signed_content may only use {timestamp} and {body}');
    } else if (piece !== '') {
      parts.push({ kind: 'text', text: piece });
    }
  }
  if (bodies === 0) throw new InvalidOptionError('hmac signed_content must contain {body}');
  return parts;
}

export function fillTemplate(
  parts: readonly TemplatePart[],
  timestamp: string | undefined,
  body: Buffer,
): SignedContent {
  return parts.map((part) =>
    part.kind === 'text' ? part.text : part.kind === 'body' ? body : (timestamp ?? ''),
  );
}

/**
 * A timestamp header without `{timestamp}` in the template is checked against the tolerance but is
 * not signed, so it stops only accidental staleness, not a replay; the replay guard still does.
 */
export function createHmacProfile(options: {
  readonly secrets: readonly string[];
  readonly toleranceS: number;
  readonly hmac: HmacProfileConfig;
}): ProfileVerifier {
  const { hmac } = options;
  const keys = toKeys(options.secrets, textKey);
  const signatureHeader = hmac.header.toLowerCase();
  const timestampHeader = hmac.timestampHeader?.toLowerCase();
  const deliveryHeader = hmac.deliveryIdHeader?.toLowerCase();
  const prefix = hmac.prefix ?? '';
  const template = parseSignedContentTemplate(hmac.signedContent, timestampHeader !== undefined);
  return {
    jsonDepth: 0,
    check(headers, body, nowS) {
      const signature = singleHeader(headers, signatureHeader);
      if (!signature.ok) return signature;
      if (!signature.value.startsWith(prefix)) return fail('malformed');
      const candidate = decodeSignature(signature.value.slice(prefix.length), hmac.encoding);
      if (candidate === undefined) return fail('malformed');
      let timestampText: string | undefined;
      let timestamp: number | undefined;
      if (timestampHeader !== undefined) {
        const header = singleHeader(headers, timestampHeader);
        if (!header.ok) return header;
        const time = checkTimestamp(header.value, nowS, options.toleranceS);
        if (!time.ok) return time;
        timestampText = header.value;
        timestamp = time.timestamp;
      }
      const content = fillTemplate(template, timestampText, body.bytes);
      if (!anyDigestMatches(hmacDigests(hmac.algorithm, keys, content), [candidate])) {
        return fail('signature');
      }
      const deliveryId = (): DeliveryIdResult => {
        if (deliveryHeader === undefined) return { ok: true, deliveryId: contentHash(content) };
        const header = singleHeader(headers, deliveryHeader);
        return header.ok ? checkDeliveryId(header.value) : header;
      };
      return timestamp === undefined
        ? { ok: true, deliveryId }
        : { ok: true, timestamp, deliveryId };
    },
  };
}

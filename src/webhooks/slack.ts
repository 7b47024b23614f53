import { stringValue } from '../json/node.ts';
import { resolvePointer, type JsonPointer } from '../json/pointer.ts';
import type { DeliveryBody } from './delivery-body.ts';
import { checkDeliveryId } from './delivery-id.ts';
import { singleHeader } from './request-headers.ts';
import { textKey, toKeys } from './secrets.ts';
import { anyDigestMatches, contentHash, decodeSignature, hmacDigests } from './signature-match.ts';
import type { SignedContent } from './signature-match.ts';
import { checkTimestamp } from './timestamp.ts';
import { fail } from './types.ts';
import type { DeliveryIdResult, HandshakeResult, ProfileVerifier } from './types.ts';

// https://api.slack.com/authentication/verifying-requests-from-slack. Events API bodies are JSON
// with an `event_id` that Slack keeps across its retries; slash commands and interactivity are
// form-encoded with no id, so their id is the hash of the signed content (unique per signature).
// Saving a Request URL, Slack first sends a signed {"type":"url_verification","challenge":...}
// (https://api.slack.com/events/url_verification): a handshake to answer, not an event to write.

export const SLACK_SIGNATURE_HEADER = 'x-slack-signature';
export const SLACK_TIMESTAMP_HEADER = 'x-slack-request-timestamp';
const PREFIX = 'v0=';

export function slackContent(timestamp: string, body: Buffer): SignedContent {
  return ['v0:', timestamp, ':', body];
}

const EVENT_ID: JsonPointer = ['event_id'];
const TYPE: JsonPointer = ['type'];
const CHALLENGE: JsonPointer = ['challenge'];
/** Slack's challenges are a few dozen characters; the bound keeps the echo small. */
const MAX_CHALLENGE_LENGTH = 256;
const NOT_A_HANDSHAKE: HandshakeResult = Object.freeze({ ok: true, challenge: undefined });

/** A url_verification without a usable challenge is refused: it is neither a handshake nor an event. */
function slackHandshake(body: DeliveryBody): HandshakeResult {
  const json = body.json(TYPE.length);
  if (json === undefined) return NOT_A_HANDSHAKE;
  const type = resolvePointer(json.root, TYPE);
  if (type?.kind !== 'string' || stringValue(json.text, type) !== 'url_verification') {
    return NOT_A_HANDSHAKE;
  }
  const node = resolvePointer(json.root, CHALLENGE);
  if (node?.kind !== 'string') return fail('malformed');
  const challenge = stringValue(json.text, node);
  if (challenge.length === 0 || challenge.length > MAX_CHALLENGE_LENGTH) return fail('malformed');
  return { ok: true, challenge };
}

function slackDeliveryId(body: DeliveryBody, content: SignedContent): DeliveryIdResult {
  const json = body.json(EVENT_ID.length);
  const node = json === undefined ? undefined : resolvePointer(json.root, EVENT_ID);
  if (json === undefined || node?.kind !== 'string') {
    return { ok: true, deliveryId: contentHash(content) };
  }
  return checkDeliveryId(stringValue(json.text, node));
}

export function createSlackProfile(options: {
  readonly secrets: readonly string[];
  readonly toleranceS: number;
}): ProfileVerifier {
  const keys = toKeys(options.secrets, textKey);
  return {
    jsonDepth: EVENT_ID.length,
    check(headers, body, nowS) {
      const signature = singleHeader(headers, SLACK_SIGNATURE_HEADER);
      if (!signature.ok) return signature;
      const timestamp = singleHeader(headers, SLACK_TIMESTAMP_HEADER);
      if (!timestamp.ok) return timestamp;
      if (!signature.value.startsWith(PREFIX)) return fail('malformed');
      const candidate = decodeSignature(signature.value.slice(PREFIX.length), 'hex');
      if (candidate === undefined) return fail('malformed');
      const time = checkTimestamp(timestamp.value, nowS, options.toleranceS);
      if (!time.ok) return time;
      const content = slackContent(timestamp.value, body.bytes);
      if (!anyDigestMatches(hmacDigests('sha256', keys, content), [candidate])) {
        return fail('signature');
      }
      return {
        ok: true,
        timestamp: time.timestamp,
        deliveryId: () => slackDeliveryId(body, content),
        handshake: () => slackHandshake(body),
      };
    },
  };
}

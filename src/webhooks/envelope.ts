import type { WebhookProfile, WebhookSourceConfig } from '../config/types.ts';
import { compactValueBytes } from '../json/compact.ts';
import type { JsonPointer } from '../json/pointer.ts';
import { keyAtPointer, type DeliveryBody } from './delivery-body.ts';
import { normalizeHeaders, firstHeader } from './request-headers.ts';
import type { WebhookRequest } from './types.ts';

// The record written to DIS for a delivery (design.md §4):
// {"source","delivery_id","received_at","headers",("body"|"body_text"|"body_base64")}.

/** Never copied into an envelope, whatever an allow-list says: they are credentials. */
const NEVER_FORWARDED: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'webhook-signature',
  'svix-signature',
  'x-hub-signature',
  'x-hub-signature-256',
  'stripe-signature',
  'x-slack-signature',
]);

export const DEFAULT_HEADER_ALLOW_LISTS: Readonly<
  Record<Exclude<WebhookProfile, 'hmac'>, readonly string[]>
> = {
  'standard-webhooks': [
    'content-type',
    'webhook-id',
    'webhook-timestamp',
    'svix-id',
    'svix-timestamp',
  ],
  github: [
    'content-type',
    'user-agent',
    'x-github-event',
    'x-github-delivery',
    'x-github-hook-id',
    'x-github-hook-installation-target-type',
    'x-github-hook-installation-target-id',
  ],
  stripe: ['content-type', 'user-agent'],
  slack: ['content-type', 'x-slack-request-timestamp', 'x-slack-retry-num', 'x-slack-retry-reason'],
};

/** The headers a source's envelopes keep; for hmac also its delivery id and timestamp headers. */
export function defaultHeaderAllowList(source: WebhookSourceConfig): readonly string[] {
  if (source.profile !== 'hmac') return DEFAULT_HEADER_ALLOW_LISTS[source.profile];
  const { hmac } = source;
  const names = ['content-type', 'user-agent', hmac?.deliveryIdHeader, hmac?.timestampHeader]
    .filter((name) => name !== undefined)
    .map((name) => name.toLowerCase());
  const signature = hmac?.header.toLowerCase();
  return [...new Set(names)].filter((name) => name !== signature);
}

export interface EnvelopeInput {
  readonly source: string;
  readonly deliveryId: string;
  /** Epoch milliseconds. */
  readonly receivedAt: number;
  readonly headers: WebhookRequest['headers'];
  readonly headerAllowList: readonly string[];
  readonly body: DeliveryBody;
}

/**
 * The envelope as UTF-8 JSON. A JSON body goes in as the sender's own text, compacted (numbers
 * digit for digit, `9007199254740993` stays); other UTF-8 (Slack's form bodies) as `body_text`;
 * anything else as `body_base64`.
 */
export function buildEnvelope(input: EnvelopeInput): Buffer {
  const headers = normalizeHeaders(input.headers);
  const kept: [string, string][] = [];
  for (const name of new Set(input.headerAllowList.map((n) => n.toLowerCase()))) {
    if (NEVER_FORWARDED.has(name)) continue;
    const value = firstHeader(headers, name);
    if (value !== undefined) kept.push([name, value]);
  }
  const head =
    `{"source":${JSON.stringify(input.source)}` +
    `,"delivery_id":${JSON.stringify(input.deliveryId)}` +
    `,"received_at":${JSON.stringify(new Date(input.receivedAt).toISOString())}` +
    `,"headers":${JSON.stringify(Object.fromEntries(kept))}`;
  const json = input.body.json(0);
  if (json !== undefined) {
    return Buffer.concat([
      Buffer.from(`${head},"body":`, 'utf8'),
      compactValueBytes(json.text, json.root),
      Buffer.from('}', 'utf8'),
    ]);
  }
  const text = input.body.text();
  const tail =
    text === undefined
      ? `,"body_base64":${JSON.stringify(input.body.bytes.toString('base64'))}}`
      : `,"body_text":${JSON.stringify(text)}}`;
  return Buffer.from(head + tail, 'utf8');
}

/**
 * The DIS partition key of a delivery's envelope: the value at the source's partition-key pointer
 * (parsed at startup) in the JSON body (a string, or a number as sent) when there is a usable one,
 * else the delivery id (so retries of one delivery land in one partition).
 */
export function envelopePartitionKey(
  pointer: JsonPointer | undefined,
  deliveryId: string,
  body: DeliveryBody,
): string {
  if (pointer === undefined) return deliveryId;
  const found = keyAtPointer(body, pointer);
  return found.kind === 'found' ? found.value : deliveryId;
}

import type { BenchArgs } from './args.ts';
import type { LoadRequest } from './load-protocol.ts';

// The four workloads of issue #6 §1. Gateway and baseline get byte-identical requests (the baseline
// ignores the token and the signature), so both parse the same bytes.

export type WorkloadName = 'single' | 'batch50' | 'ndjson50' | 'webhook';

export interface RequestContext {
  readonly token: string;
  /** Logical stream of the records endpoint. */
  readonly stream: string;
  readonly webhookSource: string;
  readonly webhookSecret: string;
}

export interface Workload {
  readonly name: WorkloadName;
  readonly title: string;
  readonly eventsPerRequest: number;
  /** Requests/s of its open-loop run; undefined: closed loop only. */
  readonly openRate: number | undefined;
  request(context: RequestContext): LoadRequest;
}

/** A click-stream event of about 300 bytes of JSON; `i` varies ids and keys. */
export function sampleEvent(i: number): Record<string, unknown> {
  return {
    event_id: `evt-${String(i).padStart(8, '0')}`,
    type: 'add_to_cart',
    occurred_at: '2026-11-26T10:15:30.123Z',
    user_id: `u-${String(i % 997).padStart(5, '0')}`,
    session_id: 'c0ffee00-1234-4abc-9def-0123456789ab',
    page: '/catalog/outdoor/tents/ultralight-2p',
    product: { sku: 'TENT-UL2P-GRN', price: 349.9, currency: 'EUR', quantity: 1 },
    client: { app: 'web', version: '5.12.3', locale: 'de-DE' },
    referrer: 'https://search.example/?q=tent',
  };
}

function recordsBody(count: number): string {
  return JSON.stringify({
    records: Array.from({ length: count }, (_, i) => ({ id: `r${i}`, data: sampleEvent(i) })),
  });
}

function ndjsonBody(count: number): string {
  return `${Array.from({ length: count }, (_, i) => JSON.stringify(sampleEvent(i))).join('\n')}\n`;
}

function webhookBody(): string {
  return JSON.stringify({
    type: 'cart.updated',
    timestamp: sampleEvent(0).occurred_at,
    data: sampleEvent(1),
  });
}

const records = (context: RequestContext, contentType: string, body: string): LoadRequest => ({
  kind: 'static',
  path: `/v1/streams/${context.stream}/records`,
  headers: { authorization: `Bearer ${context.token}`, 'content-type': contentType },
  body,
});

export function workloads(args: BenchArgs): Workload[] {
  const all: Workload[] = [
    {
      name: 'single',
      title: 'single event (JSON)',
      eventsPerRequest: 1,
      openRate: args.openRate,
      request: (context) => records(context, 'application/json', recordsBody(1)),
    },
    {
      name: 'batch50',
      title: '50 events (JSON)',
      eventsPerRequest: 50,
      // The same events/s as the single-event open loop would be 50x the requests: a tenth of
      // the request rate still gives 5x its events.
      openRate: Math.max(1, Math.round(args.openRate / 10)),
      request: (context) => records(context, 'application/json', recordsBody(50)),
    },
    {
      name: 'ndjson50',
      title: '50 events (NDJSON)',
      eventsPerRequest: 50,
      openRate: undefined,
      request: (context) => records(context, 'application/x-ndjson', ndjsonBody(50)),
    },
    {
      name: 'webhook',
      title: 'Standard Webhooks delivery (sync)',
      eventsPerRequest: 1,
      openRate: undefined,
      request: (context) => ({
        kind: 'standard-webhook',
        path: `/v1/webhooks/${context.webhookSource}`,
        headers: { 'content-type': 'application/json' },
        body: webhookBody(),
        secret: context.webhookSecret,
        idPrefix: 'msg',
      }),
    },
  ];
  return args.only.length === 0 ? all : all.filter((w) => args.only.includes(w.name));
}

/** Bytes of one event's JSON text, for the report. */
export const EVENT_BYTES = Buffer.byteLength(JSON.stringify(sampleEvent(0)));

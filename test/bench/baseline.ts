import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { z } from 'zod';
import type { PutRecordsRequestEntry } from '../../src/dis/wire.ts';
import { createBaselineForwarder, toEntries, webhookEntry } from './baseline-forward.ts';
import { exitOnSignal } from './exit-on-signal.ts';
import { readBody, sendJson } from './http-body.ts';

// The benchmark's baseline: a bare node:http server in front of the same DIS, doing the same
// transformation and the same signed upstream call as the gateway (baseline-forward.ts) and
// nothing else, so gateway/baseline ratios show what auth, limits, validation, logging and metrics
// cost. Routes mirror the gateway's: POST /v1/streams/{stream}/records (JSON or NDJSON) and
// POST /v1/webhooks/{source}. Usage: node test/bench/baseline.ts '<json settings>'.

const Settings = z.object({
  endpoint: z.string(),
  projectId: z.string(),
  ak: z.string(),
  sk: z.string(),
  /** Logical stream → DIS stream. */
  streams: z.record(z.string(), z.string()),
  /** Webhook source → DIS stream. */
  webhooks: z.record(z.string(), z.string()),
  connections: z.number().int().positive().default(32),
});

const settings = Settings.parse(JSON.parse(process.argv[2] ?? '{}'));
const forwarder = createBaselineForwarder({
  endpoint: settings.endpoint,
  projectId: settings.projectId,
  credentials: { ak: settings.ak, sk: settings.sk },
  connections: settings.connections,
});

const RECORDS = /^\/v1\/streams\/([^/]+)\/records$/;
const WEBHOOKS = /^\/v1\/webhooks\/([^/]+)$/;

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req);
  const url = req.url ?? '/';
  let disStream: string | undefined;
  let entries: PutRecordsRequestEntry[] | undefined;
  const records = RECORDS.exec(url);
  const webhook = WEBHOOKS.exec(url);
  if (req.method === 'POST' && records?.[1] !== undefined) {
    disStream = settings.streams[records[1]];
    const ndjson = (req.headers['content-type'] ?? '').startsWith('application/x-ndjson');
    entries = toEntries(body, ndjson);
  } else if (req.method === 'POST' && webhook?.[1] !== undefined) {
    disStream = settings.webhooks[webhook[1]];
    const entry = webhookEntry(webhook[1], req.headers, body, Date.now());
    entries = entry === undefined ? undefined : [entry];
  }
  if (disStream === undefined) {
    sendJson(res, 404, { error: 'not found' });
    return;
  }
  if (entries === undefined) {
    sendJson(res, 400, { error: 'unreadable body' });
    return;
  }
  const verdicts = await forwarder.put(disStream, entries);
  if (verdicts === undefined) sendJson(res, 502, { error: 'DIS refused the request' });
  else sendJson(res, 200, verdicts);
}

const server = createServer((req, res) => {
  handle(req, res).catch(() => {
    if (!res.headersSent) sendJson(res, 502, { error: 'upstream failure' });
    else res.destroy();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  console.log(`bench baseline listening on http://127.0.0.1:${port}`);
});

exitOnSignal(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  await forwarder.close();
});

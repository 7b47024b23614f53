import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { z } from 'zod';
import { verifySignedRequest } from '../../src/emulator/auth.ts';
import { exitOnSignal } from './exit-on-signal.ts';
import { readBody, sendJson } from './http-body.ts';

// The benchmark's default DIS: answers PutRecords with one verdict per record and nothing more, so
// that DIS is never what limits a target. Measured on a 2-core VM: the full emulator (signature
// check, schema, partition logs) capped the baseline at about 3,100 req/s, the same baseline
// against a bare upstream did about 7,400. The signature is still checked on the first 100 calls
// and every 1,000th, so a gateway that signs wrongly fails the run. `GET /_emulator/stats` has the
// emulator's counters (putRecordsCalls, recordsWritten, authFailures), which the benchmark reads.
// Usage: node test/bench/minimal-upstream.ts '<json settings>'.

const Settings = z.object({
  projectId: z.string(),
  region: z.string().default('cn-north-4'),
  credentials: z.array(z.object({ ak: z.string(), sk: z.string() })).min(1),
  streams: z.array(z.object({ name: z.string(), partitions: z.number().int().positive() })),
});

const settings = Settings.parse(JSON.parse(process.argv[2] ?? '{}'));
const partitions = new Map(settings.streams.map((s) => [s.name, s.partitions]));
const recordsPath = `/v2/${settings.projectId}/records`;
const stats = { putRecordsCalls: 0, recordsWritten: 0, authFailures: 0, badRequests: 0 };
let sequence = 0;

/** DIS answers with a charset in its content type. */
function send(res: ServerResponse, status: number, body: unknown): void {
  sendJson(res, status, body, 'application/json;charset=UTF-8');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req);
  const url = req.url ?? '/';
  if (req.method === 'GET' && url === '/_emulator/stats') {
    send(res, 200, stats);
    return;
  }
  if (req.method !== 'POST' || url !== recordsPath) {
    send(res, 404, { error_code: 'APIGW.0101', error_msg: 'The API does not exist' });
    return;
  }
  stats.putRecordsCalls += 1;
  const calls = stats.putRecordsCalls;
  if (calls <= 100 || calls % 1000 === 0) {
    const verdict = verifySignedRequest(
      { method: 'POST', path: url, search: '', headers: req.headers, body },
      { credentials: settings.credentials, region: settings.region, now: Date.now() },
    );
    if (!verdict.ok) {
      stats.authFailures += 1;
      send(res, 401, { error_code: 'APIGW.0301', error_msg: verdict.message });
      return;
    }
  }
  const parsed: unknown = JSON.parse(body.toString('utf8'));
  const count =
    isObject(parsed) && typeof parsed.stream_name === 'string' && Array.isArray(parsed.records)
      ? partitions.get(parsed.stream_name)
      : undefined;
  if (count === undefined || !isObject(parsed) || !Array.isArray(parsed.records)) {
    stats.badRequests += 1;
    send(res, 400, { errorCode: 'DIS.4301', message: 'stream or records missing' });
    return;
  }
  const records = parsed.records.map((_: unknown, i: number) => {
    sequence += 1;
    return {
      partition_id: `shardId-${String((sequence + i) % count).padStart(10, '0')}`,
      sequence_number: String(sequence),
    };
  });
  stats.recordsWritten += records.length;
  send(res, 200, { failed_record_count: 0, records });
}

const server = createServer((req, res) => {
  handle(req, res).catch(() => {
    stats.badRequests += 1;
    if (!res.headersSent) send(res, 400, { errorCode: 'DIS.4200', message: 'unreadable body' });
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  console.log(`bench upstream (minimal PutRecords) listening on http://127.0.0.1:${port}`);
});

exitOnSignal(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
});

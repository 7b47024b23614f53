import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Pool } from 'undici';
import type { AkSkCredentials } from '../../src/dis/signer.ts';
import type { PutRecordsRequestEntry } from '../../src/dis/wire.ts';
import { createRequestSigner } from '../../src/dis/request-signer.ts';

// What the baseline does per request, kept to the transformation the gateway must do anyway:
// parse the body, Base64 each record's data (its JSON text), build the PutRecords body, sign it
// with a lean signer (src/dis/request-signer.ts, the gateway's own: precomputed canonical pieces,
// what a well-written forwarder pays) and send it over an undici keep-alive pool: the same upstream call as the gateway's, one
// per request. No validation beyond what JSON.parse does, no auth, no limits, no logs, no metrics.

export interface BaselineForwarderOptions {
  readonly endpoint: string;
  readonly projectId: string;
  readonly credentials: AkSkCredentials;
  readonly connections: number;
}

export interface Verdicts {
  readonly failed_record_count: number;
  readonly records: readonly Record<string, string>[];
}

export interface BaselineForwarder {
  /** One signed PutRecords; undefined when DIS did not answer 200 with a readable body. */
  put(disStream: string, entries: readonly PutRecordsRequestEntry[]): Promise<Verdicts | undefined>;
  close(): Promise<void>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const entryFor = (data: unknown): PutRecordsRequestEntry => ({
  data: Buffer.from(JSON.stringify(data), 'utf8').toString('base64'),
  partition_key: randomUUID(),
});

/** `{"records":[{"data":…}]}` or NDJSON lines → DIS entries; undefined for a body it cannot read. */
export function toEntries(body: Buffer, ndjson: boolean): PutRecordsRequestEntry[] | undefined {
  try {
    if (ndjson) {
      return body
        .toString('utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => entryFor(JSON.parse(line)));
    }
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (!isRecord(parsed) || !Array.isArray(parsed.records)) return undefined;
    return parsed.records.map((record: unknown) => entryFor(isRecord(record) ? record.data : null));
  } catch {
    return undefined;
  }
}

/** A webhook delivery → one envelope record, as the gateway stores it (without verifying it). */
export function webhookEntry(
  source: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
  now: number,
): PutRecordsRequestEntry | undefined {
  const id = headers['webhook-id'];
  const deliveryId = typeof id === 'string' ? id : randomUUID();
  try {
    const parsedBody: unknown = JSON.parse(body.toString('utf8'));
    const envelope = {
      source,
      delivery_id: deliveryId,
      received_at: new Date(now).toISOString(),
      headers: { 'content-type': headers['content-type'] ?? '' },
      body: parsedBody,
    };
    return {
      data: Buffer.from(JSON.stringify(envelope), 'utf8').toString('base64'),
      partition_key: deliveryId,
    };
  } catch {
    return undefined;
  }
}

function toVerdicts(text: string): Verdicts | undefined {
  const parsed: unknown = JSON.parse(text);
  if (!isRecord(parsed) || !Array.isArray(parsed.records)) return undefined;
  const records = parsed.records.map((entry: unknown): Record<string, string> => {
    if (!isRecord(entry)) return { status: 'failed' };
    const code = entry.error_code;
    if (typeof code === 'string' && code !== '') return { status: 'failed', error_code: code };
    return {
      status: 'ok',
      partition_id: String(entry.partition_id),
      sequence_number: String(entry.sequence_number),
    };
  });
  return {
    failed_record_count: records.filter((r) => r.status !== 'ok').length,
    records,
  };
}

export function createBaselineForwarder(options: BaselineForwarderOptions): BaselineForwarder {
  const origin = new URL(options.endpoint).origin;
  const pool = new Pool(origin, { connections: options.connections, keepAliveTimeout: 4000 });
  const path = `/v2/${options.projectId}/records`;
  const url = new URL(path, origin);
  const signer = createRequestSigner(options.credentials, options.projectId);
  return {
    put: async (disStream, entries) => {
      const body = JSON.stringify({ stream_name: disStream, records: entries });
      const response = await pool.request({
        method: 'POST',
        path,
        headers: signer.sign('POST', url, body, Date.now()),
        body,
      });
      const text = await response.body.text();
      return response.statusCode === 200 ? toVerdicts(text) : undefined;
    },
    close: () => pool.close(),
  };
}

import { MAX_HASH_KEY, parsePartitionId, STREAM_NAME } from '../../dis/wire.ts';
import type { IngestRecord } from '../../ingest/records.ts';
import { keyStringProblem } from '../../json/key-string.ts';
import { HASH_KEY } from '../parse/record-fields.ts';
import { decodeStrictBase64 } from '../parse/strict-base64.ts';
import { DisAnswerError, invalidRequest } from './dis-answers.ts';

// The body of a DIS PutRecords (dis-api.md §2.1) as the SDKs send it: JSON with Base64 `data`, or
// protobuf with raw bytes (decoded by dis/protobuf.ts). Either way the same checks follow, and a
// record that breaks one refuses the whole request in DIS's words (DIS.4200, DIS.4201, DIS.4202):
// nothing of a refused request is sent.

/** A record as it arrived, before its checks. */
export interface ArrivedEntry {
  /** Base64 text (JSON) or the raw bytes (protobuf). */
  readonly data: string | Uint8Array | undefined;
  readonly partitionKey?: string | undefined;
  readonly partitionId?: string | undefined;
  readonly explicitHashKey?: string | undefined;
}

export interface ArrivedPutRecords {
  readonly streamName?: string | undefined;
  readonly streamId?: string | undefined;
  readonly records: readonly ArrivedEntry[];
}

export interface PutRecordsLimits {
  readonly maxRecords: number;
  readonly maxRecordBytes: number;
}

export interface CheckedPutRecords {
  readonly streamName?: string | undefined;
  readonly streamId?: string | undefined;
  readonly records: readonly IngestRecord[];
  /** Raw data bytes, as the rate limiter charges them. */
  readonly bytes: number;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function optionalString(value: unknown, at: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidRequest(`${at} must be a string`);
  return value;
}

/** The JSON form: `{"stream_name", "stream_id", "records": [{"data", "partition_key", …}]}`. */
export function parsePutRecordsJson(body: Buffer, limits: PutRecordsLimits): ArrivedPutRecords {
  let document: unknown;
  try {
    document = JSON.parse(body.toString('utf8'));
  } catch {
    throw invalidRequest('The body is not valid JSON');
  }
  if (!isObject(document)) throw invalidRequest('The body must be a JSON object');
  const records = document.records;
  if (records === undefined || (Array.isArray(records) && records.length === 0))
    throw new DisAnswerError(400, 'DIS.4202', 'Empty request.');
  if (!Array.isArray(records)) throw invalidRequest('records must be an array');
  if (records.length > limits.maxRecords) throw tooManyRecords(records.length, limits.maxRecords);
  const entries = records.map((record: unknown, i): ArrivedEntry => {
    if (!isObject(record)) throw invalidRequest(`records[${i}] must be an object`);
    return {
      data: optionalString(record.data, `records[${i}].data`),
      partitionKey: optionalString(record.partition_key, `records[${i}].partition_key`),
      partitionId: optionalString(record.partition_id, `records[${i}].partition_id`),
      explicitHashKey: optionalString(record.explicit_hash_key, `records[${i}].explicit_hash_key`),
    };
  });
  return {
    streamName: optionalString(document.stream_name, 'stream_name'),
    streamId: optionalString(document.stream_id, 'stream_id'),
    records: entries,
  };
}

export function tooManyRecords(count: number, max: number): DisAnswerError {
  return invalidRequest(
    `${count} records in one request; the gateway takes at most ${max} (it sends them to DIS in chunks)`,
    413,
  );
}

function checkData(data: ArrivedEntry['data'], at: string, maxBytes: number): Buffer {
  if (data === undefined || data.length === 0) throw invalidRequest(`${at}.data must not be empty`);
  if (typeof data !== 'string') {
    if (data.length > maxBytes)
      throw invalidRequest(`${at}.data is ${data.length} bytes; at most ${maxBytes} per record`);
    return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length);
  }
  const decoded = decodeStrictBase64(data, maxBytes);
  if (!decoded.ok)
    throw invalidRequest(`${at}: ${decoded.reason.replaceAll('data_base64', 'data')}`);
  return decoded.bytes;
}

/** The checks both forms share; the first problem refuses the request. */
export function checkPutRecords(
  arrived: ArrivedPutRecords,
  limits: PutRecordsLimits,
): CheckedPutRecords {
  // python-dis sends `stream_id: ""` beside the name (and an empty name beside an id): absent.
  const streamName = arrived.streamName === '' ? undefined : arrived.streamName;
  const streamId = arrived.streamId === '' ? undefined : arrived.streamId;
  if (streamName === undefined && streamId === undefined)
    throw invalidRequest('stream_name is required');
  if (streamName !== undefined && !STREAM_NAME.test(streamName))
    throw new DisAnswerError(
      400,
      'DIS.4301',
      'The stream does not exist. [stream_name is invalid]',
    );
  if (arrived.records.length === 0) throw new DisAnswerError(400, 'DIS.4202', 'Empty request.');
  if (arrived.records.length > limits.maxRecords)
    throw tooManyRecords(arrived.records.length, limits.maxRecords);
  let bytes = 0;
  const records = arrived.records.map((entry, i): IngestRecord => {
    const at = `records[${i}]`;
    const data = checkData(entry.data, at, limits.maxRecordBytes);
    bytes += data.length;
    const { partitionKey, partitionId, explicitHashKey } = entry;
    if (partitionKey !== undefined) {
      const problem = keyStringProblem(partitionKey);
      if (problem !== undefined) throw invalidRequest(`${at}.partition_key ${problem}`);
    }
    if (partitionId !== undefined && parsePartitionId(partitionId) === undefined)
      throw new DisAnswerError(
        400,
        'DIS.4201',
        `Invalid partition_id. [${at}: like shardId-0000000003 or 3]`,
      );
    if (
      explicitHashKey !== undefined &&
      (!HASH_KEY.test(explicitHashKey) || BigInt(explicitHashKey) > MAX_HASH_KEY)
    )
      throw invalidRequest(`${at}.explicit_hash_key must be a decimal from 0 to ${MAX_HASH_KEY}`);
    return {
      data,
      ...(partitionKey === undefined ? {} : { partitionKey }),
      ...(partitionId === undefined ? {} : { partitionId }),
      ...(explicitHashKey === undefined ? {} : { explicitHashKey }),
    };
  });
  return { streamName, streamId, records, bytes };
}

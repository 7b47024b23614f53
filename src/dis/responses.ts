import { z } from 'zod';
import { DisError } from './errors.ts';
import type {
  DescribeStreamResult,
  GetRecordsResult,
  ListStreamsResult,
  PutRecordsResult,
} from './wire.ts';

// DIS answers parsed from unknown JSON; anything unreadable becomes ERR_DIS_BAD_RESPONSE.

const optionalString = z.string().exactOptional();

const PutRecordsResultSchema = z.object({
  failed_record_count: z.number().int().nonnegative(),
  records: z.array(
    z.object({
      partition_id: optionalString,
      sequence_number: optionalString,
      error_code: optionalString,
      error_message: optionalString,
    }),
  ),
});

const StreamStatus = z.enum(['CREATING', 'RUNNING', 'TERMINATING', 'FROZEN', 'TERMINATED']);
const StreamType = z.enum(['COMMON', 'ADVANCED']);

const DescribeStreamSchema = z.object({
  stream_id: z.string(),
  stream_name: z.string(),
  create_time: z.number(),
  last_modified_time: z.number(),
  retention_period: z.number(),
  status: StreamStatus,
  stream_type: StreamType,
  data_type: z.string(),
  writable_partition_count: z.number(),
  readable_partition_count: z.number(),
  partitions: z.array(
    z.object({
      status: z.enum(['CREATING', 'ACTIVE', 'DELETED', 'EXPIRED']),
      partition_id: z.string(),
      hash_range: z.string(),
      sequence_number_range: z.string(),
    }),
  ),
  has_more_partitions: z.boolean(),
});

const ListStreamsSchema = z.object({
  total_number: z.number(),
  stream_names: z.array(z.string()),
  has_more_streams: z.boolean(),
  stream_info_list: z.array(
    z.object({
      stream_id: z.string(),
      stream_name: z.string(),
      create_time: z.number(),
      retention_period: z.number(),
      status: StreamStatus,
      stream_type: StreamType,
      data_type: z.string(),
      partition_count: z.number(),
    }),
  ),
});

const GetCursorSchema = z.object({ partition_cursor: z.string() });

const GetRecordsSchema = z.object({
  records: z.array(
    z.object({
      partition_key: optionalString,
      sequence_number: z.string(),
      data: z.string(),
      timestamp: z.number(),
      timestamp_type: z.literal('CreateTime'),
    }),
  ),
  next_partition_cursor: z.string(),
});

function parseWith<T>(schema: z.ZodType<T>, text: string, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new DisError('ERR_DIS_BAD_RESPONSE', `${what}: the answer is not JSON`, { cause: error });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new DisError('ERR_DIS_BAD_RESPONSE', `${what}: unexpected answer shape`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

const isOptionalString = (value: unknown): boolean =>
  value === undefined || typeof value === 'string';

/**
 * PutRecords answers, on every DIS call, checked by hand against the same shape as
 * PutRecordsResultSchema (a zod parse of each entry showed in the profile); anything else goes
 * through the schema for its message.
 */
function readPutRecordsResult(text: string): PutRecordsResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new DisError('ERR_DIS_BAD_RESPONSE', 'PutRecords: the answer is not JSON', {
      cause: error,
    });
  }
  if (typeof json === 'object' && json !== null) {
    const { failed_record_count: failed, records } = json as Record<string, unknown>;
    if (
      Number.isSafeInteger(failed) &&
      (failed as number) >= 0 &&
      Array.isArray(records) &&
      records.every(
        (entry: unknown) =>
          typeof entry === 'object' &&
          entry !== null &&
          !Array.isArray(entry) &&
          isOptionalString((entry as Record<string, unknown>).partition_id) &&
          isOptionalString((entry as Record<string, unknown>).sequence_number) &&
          isOptionalString((entry as Record<string, unknown>).error_code) &&
          isOptionalString((entry as Record<string, unknown>).error_message),
      )
    )
      return json as PutRecordsResult;
  }
  return parseWith(PutRecordsResultSchema, text, 'PutRecords');
}

/** A PutRecords answer must carry exactly one entry per record sent, in the same order. */
export function parsePutRecordsResult(text: string, sent: number): PutRecordsResult {
  const result = readPutRecordsResult(text);
  if (result.records.length !== sent) {
    throw new DisError(
      'ERR_DIS_BAD_RESPONSE',
      `PutRecords: ${result.records.length} results for ${sent} records`,
      { possiblyProcessed: true },
    );
  }
  return result;
}

export function parseDescribeStream(text: string): DescribeStreamResult {
  return parseWith(DescribeStreamSchema, text, 'DescribeStream');
}

export function parseListStreams(text: string): ListStreamsResult {
  return parseWith(ListStreamsSchema, text, 'ListStreams');
}

export function parseGetCursor(text: string): string {
  return parseWith(GetCursorSchema, text, 'GetCursor').partition_cursor;
}

export function parseGetRecords(text: string): GetRecordsResult {
  return parseWith(GetRecordsSchema, text, 'GetRecords');
}

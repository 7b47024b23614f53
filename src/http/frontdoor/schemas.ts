import { z } from 'zod';

// The DIS shapes the front door speaks (dis-api.md §2–3), as schemas for the OpenAPI document
// (openapi.ts); tests check real answers against them.

const disEntryIn = z.object({
  data: z.string().min(1).describe('Base64 of the record’s bytes (at most 1 MiB decoded)'),
  partition_key: z.string().optional(),
  partition_id: z
    .string()
    .optional()
    .describe('`shardId-0000000003` or `3`; takes precedence over the keys'),
  explicit_hash_key: z.string().regex(/^\d+$/).optional(),
});

export const disPutRecordsRequestSchema = z
  .object({
    stream_name: z.string().optional().describe('The DIS stream name of a configured stream'),
    stream_id: z.string().optional(),
    records: z.array(disEntryIn).min(1),
  })
  .describe('DIS PutRecords (JSON; `application/x-protobuf` takes the same fields)');

export const disPutRecordsResultSchema = z.strictObject({
  failed_record_count: z.int().min(0),
  records: z.array(
    z.union([
      z.strictObject({ partition_id: z.string(), sequence_number: z.string() }),
      z.strictObject({
        error_code: z
          .string()
          .describe('DIS.4303: over a gateway or DIS limit, retry; DIS.5250: retryable'),
        error_message: z.string(),
      }),
    ]),
  ),
});

export const disErrorSchema = z
  .strictObject({ errorCode: z.string().regex(/^DIS\.\d{4}$/), message: z.string() })
  .describe('A whole-request error as DIS writes it');

export const apiGatewayErrorSchema = z
  .strictObject({
    error_msg: z.string(),
    error_code: z.literal('APIGW.0301'),
    request_id: z.string(),
  })
  .describe('A refused signature or token, as DIS’s API gateway writes it (one body per mode)');

export const disDescribeStreamSchema = z
  .looseObject({
    stream_name: z.string(),
    stream_id: z.string(),
    status: z.string(),
    stream_type: z.string(),
    writable_partition_count: z.int(),
    readable_partition_count: z.int(),
    partitions: z.array(
      z.looseObject({ partition_id: z.string(), status: z.string(), hash_range: z.string() }),
    ),
    has_more_partitions: z.boolean(),
  })
  .describe('DescribeStream as DIS answered it through the gateway’s credentials');

export const disListStreamsSchema = z.strictObject({
  total_number: z.int().min(0),
  stream_names: z.array(z.string()),
  has_more_streams: z.boolean(),
  stream_info_list: z.array(
    z.looseObject({ stream_name: z.string(), partition_count: z.int(), status: z.string() }),
  ),
});

import { z } from 'zod';
import { PLAIN_ID, SHARD_ID, STREAM_NAME } from '../dis/wire.ts';
import { IDEMPOTENCY_KEY, MAX_IDEMPOTENCY_KEY_LENGTH } from '../idempotency/key.ts';
import { MAX_KEY_CHARS } from '../json/key-string.ts';
import { HASH_KEY } from './parse/record-fields.ts';

// What the OpenAPI document says a request may hold. The records parser is hand-written (it keeps
// `data` digit for digit and reports every problem with its pointer), so these schemas do not
// validate anything: they describe the parser, built from the very patterns and limits it checks.

const keyString = z.string().min(1).max(MAX_KEY_CHARS);

const recordKeys = {
  id: keyString.meta({ description: 'Correlation id, echoed in the verdict' }).exactOptional(),
  partition_key: keyString.exactOptional(),
  partition_id: z
    .union([z.string().regex(SHARD_ID), z.string().regex(PLAIN_ID)])
    .meta({ description: '`shardId-0000000003`, or the partition index `3`' })
    .exactOptional(),
  explicit_hash_key: z
    .string()
    .regex(HASH_KEY)
    .meta({ description: 'Decimal, 0 to 2^63−1' })
    .exactOptional(),
};

/** Exactly one of `data` and `data_base64`, and at most one of each key. */
export const recordInSchema = z.xor([
  z.strictObject({
    data: z.unknown().meta({
      description: 'Any JSON value; DIS receives the UTF-8 bytes of its JSON text as sent.',
    }),
    ...recordKeys,
  }),
  z.strictObject({
    data_base64: z
      .string()
      .min(1)
      .meta({ contentEncoding: 'base64', description: 'Standard Base64 with padding' }),
    ...recordKeys,
  }),
]);

export const recordsRequestSchema = z.strictObject({ records: z.array(recordInSchema).min(1) });

export const ndjsonBodySchema = z
  .string()
  .meta({ description: 'One JSON value per line: each is a record’s data' });

/** Logical stream names and webhook source names follow DIS's stream-name rule. */
export const streamNameSchema = z.string().regex(STREAM_NAME);

export const receiptIdSchema = z.string();

export const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(MAX_IDEMPOTENCY_KEY_LENGTH)
  .regex(IDEMPOTENCY_KEY);

export const preferSchema = z.string();

import assert from 'node:assert/strict';
import { z } from 'zod';
import type { HttpResult } from './signed-request.ts';

// Typed views of emulator answers for tests: parse, never cast.

export const PutResult = z.object({
  failed_record_count: z.number(),
  records: z.array(
    z.object({
      partition_id: z.string().optional(),
      sequence_number: z.string().optional(),
      error_code: z.string().optional(),
      error_message: z.string().optional(),
    }),
  ),
});

export const RecordsResult = z.object({
  records: z.array(
    z.object({
      partition_key: z.string().optional(),
      sequence_number: z.string(),
      data: z.string(),
      timestamp: z.number(),
      timestamp_type: z.literal('CreateTime'),
    }),
  ),
  next_partition_cursor: z.string(),
});

export const CursorResult = z.object({ partition_cursor: z.string() });

export const DisError = z.object({ errorCode: z.string(), message: z.string() });

/** Asserts the status and parses the body with `schema`. */
export function expectBody<T>(res: HttpResult, status: number, schema: z.ZodType<T>): T {
  assert.equal(res.status, status, res.text);
  return schema.parse(res.json);
}

/** Asserts a DIS-shaped error with this status and code. */
export function expectDisError(res: HttpResult, status: number, code: string): string {
  const body = expectBody(res, status, DisError);
  assert.equal(body.errorCode, code, body.message);
  return body.message;
}

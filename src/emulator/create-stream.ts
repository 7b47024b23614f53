import { z } from 'zod';
import { STREAM_NAME } from '../dis/wire.ts';
import type { EmulatorContext, OperationInput } from './context.ts';
import { disError } from './errors.ts';
import { json, parseJsonBody } from './http-io.ts';
import type { Reply } from './http-io.ts';

/**
 * Per-stream partition caps: DIS's default account quota is 50 COMMON / 10 ADVANCED partitions
 * (dis-api.md §2.3). The emulator applies it per stream only, so tests can create many streams.
 */
export const PARTITION_QUOTA = { COMMON: 50, ADVANCED: 10 } as const;

const CreateStreamBody = z.object({
  stream_name: z.string().regex(STREAM_NAME),
  partition_count: z.number().int().min(1),
  stream_type: z.enum(['COMMON', 'ADVANCED']).default('COMMON'),
  data_type: z.enum(['BLOB', 'JSON', 'CSV']).default('BLOB'),
  // OTC documents 24–72 hours (dis-api.md §7).
  data_duration: z.number().int().min(24).max(72).default(24),
});

/** `POST /v2/{project_id}/streams` → 201 with no body. */
export function handleCreateStream(ctx: EmulatorContext, input: OperationInput): Reply {
  const body = parseJsonBody(input, CreateStreamBody);
  if (body.partition_count > PARTITION_QUOTA[body.stream_type]) {
    throw disError('DIS.4308', `[at most ${PARTITION_QUOTA[body.stream_type]} partitions]`);
  }
  const created = ctx.store.createStream({
    name: body.stream_name,
    partitions: body.partition_count,
    type: body.stream_type,
    dataType: body.data_type,
    retentionHours: body.data_duration,
  });
  if (created === undefined) throw disError('DIS.4307');
  return json(201);
}

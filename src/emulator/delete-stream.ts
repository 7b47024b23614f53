import { requireStream } from './context.ts';
import type { EmulatorContext, OperationInput } from './context.ts';
import { json } from './http-io.ts';
import type { Reply } from './http-io.ts';

/** `DELETE /v2/{project_id}/streams/{stream_name}` → 204. Outstanding cursors die with the stream. */
export function handleDeleteStream(ctx: EmulatorContext, input: OperationInput): Reply {
  const stream = requireStream(ctx, input.streamName);
  ctx.store.deleteStream(stream.name);
  return json(204);
}

import { parsePartitionId } from '../dis/wire.ts';
import { requireStream } from './context.ts';
import type { EmulatorContext, OperationInput } from './context.ts';
import { CURSOR_TYPES, encodeCursor } from './cursor.ts';
import { disError } from './errors.ts';
import { json } from './http-io.ts';
import type { Reply } from './http-io.ts';
import { parseUnsigned63 } from './partitions.ts';
import type { PartitionState } from './state.ts';

function isCursorType(value: string): value is (typeof CURSOR_TYPES)[number] {
  return CURSOR_TYPES.some((t) => t === value);
}

/**
 * Where a cursor starts. AT/AFTER accept starts in [first, next]: reading at `next` is how a consumer
 * waits for the first record of an empty partition. DIS.4224 reports that same range.
 */
function startPosition(
  ctx: EmulatorContext,
  partition: PartitionState,
  type: (typeof CURSOR_TYPES)[number],
  query: ReadonlyMap<string, string>,
): bigint {
  const { log } = partition;
  switch (type) {
    case 'TRIM_HORIZON':
      return log.first();
    case 'LATEST':
      return log.next();
    case 'AT_TIMESTAMP': {
      const raw = query.get('timestamp') ?? '';
      const timestamp = /^\d{1,15}$/.test(raw) ? Number(raw) : undefined;
      if (timestamp === undefined) throw disError('DIS.4200', `[timestamp: ${raw}]`);
      const oldest = ctx.clock() - ctx.maxAgeMs;
      if (timestamp < oldest) {
        throw disError(
          'DIS.4300',
          `[timestamp is expired, timestamp should be larger than ${oldest}]`,
        );
      }
      return log.firstAtOrAfter(timestamp);
    }
    case 'AT_SEQUENCE_NUMBER':
    case 'AFTER_SEQUENCE_NUMBER': {
      const raw = query.get('starting-sequence-number') ?? '';
      const sequence = parseUnsigned63(raw);
      if (sequence === undefined) throw disError('DIS.4216', `[${raw}]`);
      const start = type === 'AT_SEQUENCE_NUMBER' ? sequence : sequence + 1n;
      if (start < log.first() || start > log.next()) {
        throw disError(
          'DIS.4224',
          `[${sequence}][ should be within ][${log.first()}][ ][${log.next()}]`,
        );
      }
      return start;
    }
  }
}

/** `GET /v2/{project_id}/cursors?stream-name=&partition-id=&cursor-type=&starting-sequence-number=&timestamp=` */
export function handleGetCursor(ctx: EmulatorContext, input: OperationInput): Reply {
  const { query } = input;
  const stream = requireStream(ctx, query.get('stream-name'));
  const rawPartition = query.get('partition-id') ?? '';
  const index = parsePartitionId(rawPartition);
  if (index === undefined) throw disError('DIS.4201', `[${rawPartition}]`);
  const partition = stream.partitions[index];
  if (partition === undefined) throw disError('DIS.4302', `[${rawPartition}]`);
  const cursorType = query.get('cursor-type') ?? 'AT_SEQUENCE_NUMBER';
  if (!isCursorType(cursorType)) throw disError('DIS.4215', `[${cursorType}]`);
  const now = ctx.clock();
  partition.log.trim(now);
  const position = startPosition(ctx, partition, cursorType, query);
  const cursor = encodeCursor({
    streamName: stream.name,
    streamId: stream.id,
    partition: index,
    cursorType,
    position,
    generatedAt: now,
  });
  return json(200, { partition_cursor: cursor });
}

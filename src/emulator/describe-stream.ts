import { parsePartitionId, toShardId } from '../dis/wire.ts';
import type { DescribeStreamResult } from '../dis/wire.ts';
import { requireStream } from './context.ts';
import type { EmulatorContext, OperationInput } from './context.ts';
import { disError } from './errors.ts';
import { json } from './http-io.ts';
import type { Reply } from './http-io.ts';
import { parseLimit } from './list-streams.ts';
import { formatRange } from './partitions.ts';

/**
 * `GET /v2/{project_id}/streams/{stream_name}?start_partitionId=&limit_partitions=`.
 * `sequence_number_range` is `[first : last]` of the retained records; a partition holding none
 * shows `[next : next-1]` (so `[0 : -1]` when never written), DIS's own empty form being undocumented.
 */
export function handleDescribeStream(ctx: EmulatorContext, input: OperationInput): Reply {
  const stream = requireStream(ctx, input.streamName);
  const limit = parseLimit(input.query.get('limit_partitions'), 'limit_partitions', {
    min: 1,
    max: 1000,
    fallback: 100,
  });
  const rawStart = input.query.get('start_partitionId');
  const start = rawStart === undefined || rawStart === '' ? -1 : parsePartitionId(rawStart);
  if (start === undefined) throw disError('DIS.4201', `[${rawStart ?? ''}]`);
  const after = stream.partitions.filter((p) => p.index > start);
  const page = after.slice(0, limit);
  const now = ctx.clock();
  const result: DescribeStreamResult & Record<string, unknown> = {
    stream_id: stream.id,
    stream_name: stream.name,
    create_time: stream.createTime,
    last_modified_time: stream.createTime,
    retention_period: stream.retentionHours,
    status: 'RUNNING',
    stream_type: stream.type,
    data_type: stream.dataType,
    writable_partition_count: stream.partitions.length,
    readable_partition_count: stream.partitions.length,
    partitions: page.map((p) => {
      p.log.trim(now);
      return {
        status: 'ACTIVE',
        partition_id: toShardId(p.index),
        hash_range: formatRange(p.hashLo, p.hashHi),
        sequence_number_range: formatRange(p.log.first(), p.log.next() - 1n),
      };
    }),
    has_more_partitions: after.length > page.length,
    update_partition_counts: [],
    auto_scale_enabled: false,
    tags: [],
    sys_tags: [],
  };
  return json(200, result);
}

import type { ListStreamsResult } from '../dis/wire.ts';
import type { EmulatorContext, OperationInput } from './context.ts';
import { disError } from './errors.ts';
import { json } from './http-io.ts';
import type { Reply } from './http-io.ts';

export function parseLimit(
  raw: string | undefined,
  name: string,
  bounds: { min: number; max: number; fallback: number },
): number {
  if (raw === undefined) return bounds.fallback;
  const n = /^\d{1,7}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= bounds.min && n <= bounds.max)) {
    throw disError('DIS.4200', `[${name} must be ${bounds.min}..${bounds.max}]`);
  }
  return n;
}

/** `GET /v2/{project_id}/streams?limit=&start_stream_name=` (start name exclusive, names sorted). */
export function handleListStreams(ctx: EmulatorContext, input: OperationInput): Reply {
  const limit = parseLimit(input.query.get('limit'), 'limit', { min: 1, max: 100, fallback: 10 });
  const start = input.query.get('start_stream_name');
  const all = ctx.store.streams();
  const after = start === undefined || start === '' ? all : all.filter((s) => s.name > start);
  const page = after.slice(0, limit);
  const result: ListStreamsResult = {
    total_number: all.length,
    stream_names: page.map((s) => s.name),
    has_more_streams: after.length > page.length,
    stream_info_list: page.map((s) => ({
      stream_id: s.id,
      stream_name: s.name,
      create_time: s.createTime,
      retention_period: s.retentionHours,
      status: 'RUNNING',
      stream_type: s.type,
      data_type: s.dataType,
      partition_count: s.partitions.length,
    })),
  };
  return json(200, result);
}

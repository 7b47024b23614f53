import type { GetRecordsRecord, GetRecordsResult } from '../dis/wire.ts';
import type { EmulatorContext, OperationInput } from './context.ts';
import { CURSOR_TTL_MS, decodeCursor, encodeCursor } from './cursor.ts';
import { disError } from './errors.ts';
import { json } from './http-io.ts';
import type { Reply } from './http-io.ts';
import { parseLimit } from './list-streams.ts';

/** Default and cap of `max_fetch_bytes` (undocumented by DIS; the emulator's choice). */
export const DEFAULT_FETCH_BYTES = 1024 * 1024;
const MAX_FETCH_BYTES = 10 * 1024 * 1024;

/** `GET /v2/{project_id}/records?partition-cursor=&max_fetch_bytes=` */
export function handleGetRecords(ctx: EmulatorContext, input: OperationInput): Reply {
  const raw = input.query.get('partition-cursor');
  if (raw === undefined || raw === '') throw disError('DIS.4217', '[partition-cursor is required]');
  const maxBytes = parseLimit(input.query.get('max_fetch_bytes'), 'max_fetch_bytes', {
    min: 1,
    max: MAX_FETCH_BYTES,
    fallback: DEFAULT_FETCH_BYTES,
  });
  const cursor = decodeCursor(raw);
  const stream = cursor === undefined ? undefined : ctx.store.stream(cursor.streamName);
  const partition = cursor === undefined ? undefined : stream?.partitions[cursor.partition];
  if (cursor === undefined || stream?.id !== cursor.streamId || partition === undefined) {
    throw disError('DIS.4217', '[unknown cursor]');
  }
  const now = ctx.clock();
  if (now - cursor.generatedAt > CURSOR_TTL_MS) throw disError('DIS.4225');
  partition.log.trim(now);
  if (cursor.position < partition.log.first()) throw disError('DIS.4226');

  const records: GetRecordsRecord[] = [];
  let position = cursor.position;
  let bytes = 0;
  // A record larger than max_fetch_bytes is never returned: the cursor stays in front of it (§7).
  for (let record = partition.log.get(position); record !== undefined;) {
    if (bytes + record.data.length > maxBytes) break;
    bytes += record.data.length;
    records.push({
      ...(record.partitionKey === undefined ? {} : { partition_key: record.partitionKey }),
      sequence_number: String(record.sequenceNumber),
      data: record.data.toString('base64'),
      timestamp: record.timestamp,
      timestamp_type: 'CreateTime',
    });
    position += 1n;
    record = partition.log.get(position);
  }
  const result: GetRecordsResult = {
    records,
    next_partition_cursor: encodeCursor({ ...cursor, position, generatedAt: now }),
  };
  return json(200, result);
}

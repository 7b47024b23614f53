import type { DisClient } from '../dis/client.ts';
import type { RecordSink } from './ingest.ts';

/** The sync sink without batching: one client call per request. */
export function createDisSink(client: DisClient): RecordSink {
  return {
    put: (request) =>
      client.putRecords({
        streamName: request.target.disStream,
        streamId: request.target.streamId,
        records: request.entries,
        deadline: request.deadline,
        trace: request.trace,
      }),
  };
}

import type { PutRecordsOutcome } from '../dis/client.ts';
import type { TraceHeaders } from '../dis/connection.ts';
import { childTraceHeaders, type TraceContext } from '../observability/trace-context.ts';
import type { PutRecordsRequestEntry } from '../dis/wire.ts';
import { orderingKey } from './ordering-key.ts';
import { toDisEntry, type IngestRecord, type StreamTarget } from './records.ts';

// The ingest core: records in, DIS entries to a sink, per-record verdicts out. It knows nothing of
// HTTP; the records route, webhooks and the spool forwarder all come through here.

export interface PutRequest {
  readonly target: StreamTarget;
  readonly entries: readonly PutRecordsRequestEntry[];
  /** Raw (decoded) data bytes of the entries, known since the records were parsed. */
  readonly bytes: number;
  /** Absolute time (ms) after which nothing more is tried. */
  readonly deadline: number;
  /** The DIS call's span, a child of the request's (a batch carries its first request's). */
  readonly trace?: TraceHeaders | undefined;
  /** Per-key streams: each entry's ordering key (undefined: a record without a key of its own). */
  readonly keys?: readonly (string | undefined)[] | undefined;
}

/** Where entries go: the batcher (createBatcher) or straight to the DIS client (createDisSink). */
export interface RecordSink {
  readonly put: (request: PutRequest) => Promise<PutRecordsOutcome>;
}

export interface IngestOptions {
  readonly sink: RecordSink;
  readonly randomKey: () => string;
}

export interface Ingest {
  /** `bytes`: the records' raw data bytes, summed once where they were parsed. */
  readonly ingest: (
    target: StreamTarget,
    records: readonly IngestRecord[],
    bytes: number,
    deadline: number,
    trace?: TraceContext,
  ) => Promise<PutRecordsOutcome>;
}

export function createIngest(options: IngestOptions): Ingest {
  return {
    ingest: (target, records, bytes, deadline, trace) =>
      options.sink.put({
        target,
        entries: records.map((record) => toDisEntry(record, options.randomKey)),
        bytes,
        deadline,
        trace: trace === undefined ? undefined : childTraceHeaders(trace),
        keys: target.ordering === 'per_key' ? records.map(orderingKey) : undefined,
      }),
  };
}

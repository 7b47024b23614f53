import { setTimeout as sleepTimer } from 'node:timers/promises';
import { percentEncode } from './canonical.ts';
import {
  createDisConnection,
  type DisConnectionOptions,
  type DisExchange,
  type DisRequestEvents,
} from './connection.ts';
import { DisError, DisHttpError } from './errors.ts';
import {
  parseDescribeStream,
  parseGetCursor,
  parseGetRecords,
  parseListStreams,
} from './responses.ts';
import {
  DEFAULT_BACKOFF,
  backoffDelay,
  isRetryableRequestError,
  type BackoffPolicy,
  type DisRetryEvent,
} from './retry.ts';
import type { TransportResponse } from './transport.ts';
import type {
  CreateStreamRequest,
  CursorType,
  DescribeStreamResult,
  GetRecordsResult,
  ListStreamsResult,
} from './wire.ts';

// DIS's stream management and read calls (dis-api.md §7), apart from the PutRecords client: the
// gateway itself only writes; tests create, describe and read streams with it (a DIS-compatible
// front door would answer DescribeStream and ListStreams through it).

export interface DisManagementEvents extends DisRequestEvents {
  readonly retry?: (event: DisRetryEvent) => void;
}

export interface DisManagementOptions extends DisConnectionOptions {
  readonly events?: DisManagementEvents | undefined;
  readonly random?: (() => number) | undefined;
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  readonly backoff?: Partial<BackoffPolicy> | undefined;
  /** Attempts of one call before giving up (default 10); the deadline usually ends them first. */
  readonly maxAttempts?: number | undefined;
  /** Do not start an attempt with less time than this left before the deadline (default 50 ms). */
  readonly minAttemptMs?: number | undefined;
}

export interface CallOptions {
  /** Absolute time (ms, the client's clock) after which no retry starts; default 10 s from now. */
  readonly deadline?: number | undefined;
}

export interface GetCursorInput {
  readonly streamName: string;
  readonly partitionId: string;
  readonly cursorType: CursorType;
  readonly startingSequenceNumber?: string | undefined;
  readonly timestamp?: number | undefined;
}

export interface DisManagementClient {
  readonly createStream: (request: CreateStreamRequest, options?: CallOptions) => Promise<void>;
  readonly describeStream: (
    streamName: string,
    query?: { readonly startPartitionId?: string; readonly limitPartitions?: number },
    options?: CallOptions,
  ) => Promise<DescribeStreamResult>;
  readonly listStreams: (
    query?: { readonly limit?: number; readonly startStreamName?: string },
    options?: CallOptions,
  ) => Promise<ListStreamsResult>;
  readonly deleteStream: (streamName: string, options?: CallOptions) => Promise<void>;
  readonly getCursor: (input: GetCursorInput, options?: CallOptions) => Promise<string>;
  readonly getRecords: (
    cursor: string,
    query?: { readonly maxFetchBytes?: number },
    options?: CallOptions,
  ) => Promise<GetRecordsResult>;
  readonly close: () => Promise<void>;
}

const DEFAULT_CALL_TIMEOUT_MS = 10_000;

export function createDisManagementClient(options: DisManagementOptions): DisManagementClient {
  const connection = createDisConnection(options);
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? ((ms: number) => sleepTimer(ms));
  const backoff: BackoffPolicy = { ...DEFAULT_BACKOFF, ...options.backoff };
  const maxAttempts = options.maxAttempts ?? 10;
  const minAttemptMs = options.minAttemptMs ?? 50;

  /** Request-level retries only: these calls have no per-record results. */
  const call = async (
    request: DisExchange,
    callOptions?: CallOptions,
  ): Promise<TransportResponse> => {
    const deadline = callOptions?.deadline ?? now() + DEFAULT_CALL_TIMEOUT_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        return await connection.exchange(request);
      } catch (error) {
        if (!(error instanceof DisError) || !isRetryableRequestError(error)) throw error;
        const retryAfter = error instanceof DisHttpError ? (error.retryAfterMs ?? 0) : 0;
        const delay = Math.max(backoffDelay(backoff, attempt, random), retryAfter);
        if (attempt + 1 >= maxAttempts || now() + delay + minAttemptMs > deadline) throw error;
        options.events?.retry?.({ operation: request.operation, kind: 'request', records: 0 });
        await sleep(delay);
      }
    }
  };

  return {
    createStream: async (request, callOptions) => {
      await call(
        {
          operation: 'CreateStream',
          method: 'POST',
          path: '/streams',
          body: JSON.stringify(request),
        },
        callOptions,
      );
    },
    describeStream: async (streamName, query, callOptions) => {
      const response = await call(
        {
          operation: 'DescribeStream',
          method: 'GET',
          path: `/streams/${percentEncode(streamName)}`,
          query: [
            ['start_partitionId', query?.startPartitionId],
            ['limit_partitions', query?.limitPartitions],
          ],
        },
        callOptions,
      );
      return parseDescribeStream(response.text);
    },
    listStreams: async (query, callOptions) => {
      const response = await call(
        {
          operation: 'ListStreams',
          method: 'GET',
          path: '/streams',
          query: [
            ['limit', query?.limit],
            ['start_stream_name', query?.startStreamName],
          ],
        },
        callOptions,
      );
      return parseListStreams(response.text);
    },
    deleteStream: async (streamName, callOptions) => {
      await call(
        {
          operation: 'DeleteStream',
          method: 'DELETE',
          path: `/streams/${percentEncode(streamName)}`,
        },
        callOptions,
      );
    },
    getCursor: async (input, callOptions) => {
      const response = await call(
        {
          operation: 'GetCursor',
          method: 'GET',
          path: '/cursors',
          query: [
            ['stream-name', input.streamName],
            ['partition-id', input.partitionId],
            ['cursor-type', input.cursorType],
            ['starting-sequence-number', input.startingSequenceNumber],
            ['timestamp', input.timestamp],
          ],
        },
        callOptions,
      );
      return parseGetCursor(response.text);
    },
    getRecords: async (cursor, query, callOptions) => {
      const response = await call(
        {
          operation: 'GetRecords',
          method: 'GET',
          path: '/records',
          query: [
            ['partition-cursor', cursor],
            ['max_fetch_bytes', query?.maxFetchBytes],
          ],
        },
        callOptions,
      );
      return parseGetRecords(response.text);
    },
    close: () => connection.close(),
  };
}

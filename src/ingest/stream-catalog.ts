import type { DisManagementClient } from '../dis/management.ts';
import { CodedError } from '../errors/coded-error.ts';
import { DisError, DisHttpError } from '../dis/errors.ts';
import type { DescribeStreamResult, ListStreamsResult } from '../dis/wire.ts';

// DescribeStream and ListStreams for the DIS front door's clients (SDKs describe a stream before they
// write; the older Python SDK sizes its batches from the partition count). Answered from DIS
// through the gateway's own credentials, so partitions are what DIS has now (a scaled stream is
// seen at once, not after a config change), reused for a few seconds so that a fleet of producers
// starting together costs DIS one call per stream. ListStreams lists only what the caller may
// write, from the config, each described the same way.

export interface DescribeQuery {
  readonly startPartitionId?: string;
  readonly limitPartitions?: number;
}

export interface StreamCatalog {
  describe(disStream: string, query: DescribeQuery): Promise<DescribeStreamResult>;
  /** `names`: the DIS streams the caller may write. */
  list(
    names: readonly string[],
    query: { readonly limit: number; readonly startStreamName?: string | undefined },
  ): Promise<ListStreamsResult>;
}

export interface StreamCatalogOptions {
  readonly management: Pick<DisManagementClient, 'describeStream'>;
  readonly cacheMs: number;
  readonly now: () => number;
  /** How long one DIS call may take, retries included. */
  readonly callTimeoutMs?: number;
}

/** Why a stream could not be described: DIS's refusal of it, its refusal of us, or no answer. */
export type CatalogFailureKind = 'refused' | 'credentials' | 'unavailable';

export class CatalogError extends CodedError<'ERR_DIS_CATALOG'> {
  readonly kind: CatalogFailureKind;
  /** DIS's code and message when it refused the stream (400: DIS.4301 and the like). */
  readonly disCode: string | undefined;
  readonly disMessage: string | undefined;

  constructor(kind: CatalogFailureKind, cause: unknown, dis?: { code: string; message: string }) {
    super('ERR_DIS_CATALOG', `DescribeStream failed (${kind})`, { cause });
    this.kind = kind;
    this.disCode = dis?.code;
    this.disMessage = dis?.message;
  }
}

function toCatalogError(error: unknown): unknown {
  if (error instanceof DisHttpError && error.status === 400 && error.disCode !== undefined)
    return new CatalogError('refused', error, {
      code: error.disCode,
      message: error.disMessage ?? error.message,
    });
  if (error instanceof DisHttpError && (error.status === 401 || error.status === 403))
    return new CatalogError('credentials', error);
  if (error instanceof DisError) return new CatalogError('unavailable', error);
  return error;
}

/** Keys come from callers' queries (stream, start partition, limit): the cache stays bounded. */
const MAX_CACHED = 1_000;

function evict(cache: Map<string, { expires: number }>, now: number): void {
  for (const [key, entry] of cache) if (entry.expires <= now) cache.delete(key);
  // Still full: the oldest go first (a Map iterates in insertion order).
  for (const key of cache.keys()) {
    if (cache.size < MAX_CACHED) break;
    cache.delete(key);
  }
}

export function createStreamCatalog(options: StreamCatalogOptions): StreamCatalog {
  const cache = new Map<string, { expires: number; answer: Promise<DescribeStreamResult> }>();
  const callTimeoutMs = options.callTimeoutMs ?? 5_000;

  const describe = (disStream: string, query: DescribeQuery): Promise<DescribeStreamResult> => {
    const key = `${disStream}\n${query.startPartitionId ?? ''}\n${query.limitPartitions ?? ''}`;
    const now = options.now();
    const hit = cache.get(key);
    if (hit !== undefined && hit.expires > now) return hit.answer;
    if (cache.size >= MAX_CACHED) evict(cache, now);
    const answer = options.management
      .describeStream(disStream, query, { deadline: now + callTimeoutMs })
      .catch((error: unknown) => {
        throw toCatalogError(error);
      });
    cache.set(key, { expires: now + options.cacheMs, answer });
    // A failure is not kept: the next caller asks DIS again.
    answer.catch(() => {
      if (cache.get(key)?.answer === answer) cache.delete(key);
    });
    return answer;
  };

  return {
    describe,
    async list(names, query) {
      const sorted = [...new Set(names)].sort();
      const after =
        query.startStreamName === undefined
          ? sorted
          : sorted.filter((name) => name > (query.startStreamName ?? ''));
      const page = after.slice(0, query.limit);
      const described = await Promise.all(page.map((name) => describe(name, {})));
      return {
        total_number: sorted.length,
        stream_names: page,
        has_more_streams: after.length > page.length,
        stream_info_list: described.map((d) => ({
          stream_id: d.stream_id,
          stream_name: d.stream_name,
          create_time: d.create_time,
          retention_period: d.retention_period,
          status: d.status,
          stream_type: d.stream_type,
          data_type: d.data_type,
          partition_count: d.writable_partition_count,
        })),
      };
    },
  };
}

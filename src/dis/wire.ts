// DIS wire format (dis-api.md §2, §3, §7). Field names are DIS's own; nothing here knows the gateway.

/** One record's raw data may be at most 1 MiB before Base64 (dis-api.md §2.3). */
export const MAX_RECORD_BYTES = 1024 * 1024;
/** The records of one PutRecords call may hold at most 5 MB of raw data (dis-api.md §2.3). */
export const MAX_REQUEST_DATA_BYTES = 5 * 1024 * 1024;
/** The largest `explicit_hash_key` and the top of the partition hash space: 2^63 - 1. */
export const MAX_HASH_KEY = 9223372036854775807n;
/** Stream names: letters, digits, `_` and `-`, 1 to 64 characters (dis-api.md §2.1). */
export const STREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export type StreamType = 'COMMON' | 'ADVANCED';

/** Per-partition write limits (dis-api.md §2.3). */
export const PARTITION_WRITE_LIMITS: Readonly<
  Record<StreamType, { readonly recordsPerSecond: number; readonly bytesPerSecond: number }>
> = {
  COMMON: { recordsPerSecond: 1000, bytesPerSecond: 1024 * 1024 },
  ADVANCED: { recordsPerSecond: 2000, bytesPerSecond: 5 * 1024 * 1024 },
};

export interface PutRecordsRequestEntry {
  /** Base64 of the raw bytes. */
  data: string;
  partition_key?: string;
  partition_id?: string;
  explicit_hash_key?: string;
}

export interface PutRecordsRequest {
  stream_name: string;
  stream_id?: string;
  records: PutRecordsRequestEntry[];
}

export interface PutRecordsResultEntry {
  partition_id?: string;
  sequence_number?: string;
  error_code?: string;
  error_message?: string;
}

export interface PutRecordsResult {
  failed_record_count: number;
  records: PutRecordsResultEntry[];
}

/** The DIS service's error body. */
export interface DisErrorBody {
  errorCode: string;
  message: string;
}

/** The API gateway's error body (authentication, throttling in front of DIS). */
export interface ApiGatewayErrorBody {
  error_code: string;
  error_msg: string;
  request_id?: string;
}

export interface CreateStreamRequest {
  stream_name: string;
  partition_count: number;
  stream_type?: StreamType;
  data_type?: 'BLOB' | 'JSON' | 'CSV';
  data_duration?: number;
}

export type PartitionStatus = 'CREATING' | 'ACTIVE' | 'DELETED' | 'EXPIRED';

export interface PartitionDescription {
  status: PartitionStatus;
  partition_id: string;
  /** `"[lo : hi]"` */
  hash_range: string;
  /** `"[first : last]"` */
  sequence_number_range: string;
}

export interface DescribeStreamResult {
  stream_id: string;
  stream_name: string;
  create_time: number;
  last_modified_time: number;
  retention_period: number;
  status: 'CREATING' | 'RUNNING' | 'TERMINATING' | 'FROZEN' | 'TERMINATED';
  stream_type: StreamType;
  data_type: string;
  writable_partition_count: number;
  readable_partition_count: number;
  partitions: PartitionDescription[];
  has_more_partitions: boolean;
}

export interface StreamInfo {
  stream_id: string;
  stream_name: string;
  create_time: number;
  retention_period: number;
  status: DescribeStreamResult['status'];
  stream_type: StreamType;
  data_type: string;
  partition_count: number;
}

export interface ListStreamsResult {
  total_number: number;
  stream_names: string[];
  has_more_streams: boolean;
  stream_info_list: StreamInfo[];
}

export type CursorType =
  'AT_SEQUENCE_NUMBER' | 'AFTER_SEQUENCE_NUMBER' | 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';

export interface GetCursorResult {
  partition_cursor: string;
}

export interface GetRecordsRecord {
  partition_key?: string;
  sequence_number: string;
  /** Base64 */
  data: string;
  timestamp: number;
  timestamp_type: 'CreateTime';
}

export interface GetRecordsResult {
  records: GetRecordsRecord[];
  next_partition_cursor: string;
}

/** `shardId-0000000003` for index 3. */
export function toShardId(index: number): string {
  return `shardId-${String(index).padStart(10, '0')}`;
}

/** A partition id as DIS writes it (and answers it), `shardId-` and ten digits. */
export const SHARD_ID = /^shardId-(\d{10})$/;
/** A partition named by its index, without leading zeros: `3`. */
export const PLAIN_ID = /^(0|[1-9]\d{0,9})$/;

/** Partition index from either id form (`shardId-0000000003` or `3`); undefined when neither. */
export function parsePartitionId(id: string): number | undefined {
  const m = SHARD_ID.exec(id) ?? PLAIN_ID.exec(id);
  if (m?.[1] === undefined) return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Where DIS puts a record; absent fields are not sent. */
export interface RecordRouting {
  readonly partitionId?: string | undefined;
  readonly explicitHashKey?: string | undefined;
  readonly partitionKey?: string | undefined;
}

/**
 * The PutRecords entry for a record, routed by DIS's precedence: partition id > explicit hash key >
 * partition key; a record with none takes `fallbackKey()`.
 */
export function toPutRecordsEntry(
  data: Buffer,
  routing: RecordRouting,
  fallbackKey: () => string,
): PutRecordsRequestEntry {
  const entry: PutRecordsRequestEntry = { data: data.toString('base64') };
  if (routing.partitionId !== undefined) entry.partition_id = routing.partitionId;
  else if (routing.explicitHashKey !== undefined) entry.explicit_hash_key = routing.explicitHashKey;
  else entry.partition_key = routing.partitionKey ?? fallbackKey();
  return entry;
}

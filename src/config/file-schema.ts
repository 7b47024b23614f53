import { z } from 'zod';
import { MAX_RECORD_BYTES, MAX_REQUEST_DATA_BYTES, STREAM_NAME } from '../dis/wire.ts';
import {
  durationMs,
  envName,
  filePath,
  httpUrl,
  jsonPointer,
  nonNegativeInt,
  positiveInt,
  stringList,
  trustProxy,
} from './schema-parts.ts';
import { LOG_LEVELS, WEBHOOK_PROFILES } from './types.ts';

// The config file (snake_case), merged with the environment overrides, is checked by this one schema.
// Sections are parsed one by one (see load-config.ts) so that a mistake in one does not hide the
// problems of the others. Secrets appear only as references: `*_env` names and `*_file` paths.

const MIB = 1024 * 1024;

const serverSection = z.strictObject({
  host: z.string().min(1).default('0.0.0.0'),
  port: nonNegativeInt(65535).default(8080),
  trust_proxy: trustProxy.default(0),
  body_limit_bytes: positiveInt(64 * MIB).default(5 * MIB),
  keep_alive_timeout_ms: durationMs.default(65_000),
  headers_timeout_ms: durationMs.default(66_000),
  request_timeout_ms: durationMs.default(30_000),
  shutdown_delay_ms: durationMs.default(5_000),
  shutdown_timeout_ms: durationMs.default(25_000),
  default_wait_ms: durationMs.default(10_000),
  max_wait_ms: durationMs.default(25_000),
});

const logSection = z.strictObject({
  level: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
});

const disAuth = z.strictObject({
  type: z.enum(['aksk', 'token'], { error: 'must be aksk or token' }).default('aksk'),
  ak_env: envName.optional(),
  ak_file: filePath.optional(),
  sk_env: envName.optional(),
  sk_file: filePath.optional(),
  security_token_env: envName.optional(),
  security_token_file: filePath.optional(),
  iam_endpoint: httpUrl('the IAM endpoint').optional(),
  user: z.string().min(1).optional(),
  domain: z.string().min(1).optional(),
  password_env: envName.optional(),
  password_file: filePath.optional(),
});

const disSection = z.strictObject({
  endpoint: httpUrl('the DIS endpoint').optional(),
  region: z
    .string()
    .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, { error: 'must be a region id like cn-north-4' })
    .optional(),
  project_id: z
    .string()
    .regex(/^[0-9a-f]{32}$/, { error: 'must be a project id: 32 lowercase hex characters' })
    .optional(),
  auth: disAuth.prefault({}),
  max_records_per_request: positiveInt(1000).default(500),
  max_bytes_per_request: positiveInt(MAX_REQUEST_DATA_BYTES).default(4 * MIB),
  max_concurrent_requests: positiveInt(64).default(4),
  request_timeout_ms: positiveInt(300_000).default(5_000),
  connect_timeout_ms: positiveInt(300_000).default(2_000),
  breaker: z
    .strictObject({
      // DIS locks an AK after 5 bad signatures in a row: the breaker must open before that.
      failure_threshold: positiveInt(4).default(3),
      cool_down_ms: positiveInt(3_600_000).default(60_000),
    })
    .prefault({}),
});

const hostPort = (defaultPort: number) =>
  z.strictObject({ host: z.string().min(1), port: nonNegativeInt(65535).default(defaultPort) });

const redisSection = z.strictObject({
  url: z
    .string()
    .refine((v) => URL.canParse(v) && /^rediss?:$/.test(new URL(v).protocol), {
      error: 'must be a redis:// or rediss:// URL',
    })
    .optional(),
  sentinels: z.array(hostPort(26379)).min(1).optional(),
  name: z.string().min(1).optional(),
  nodes: z.array(hostPort(6379)).min(1).optional(),
  db: nonNegativeInt(15).optional(),
  password_env: envName.optional(),
  password_file: filePath.optional(),
  sentinel_password_env: envName.optional(),
  sentinel_password_file: filePath.optional(),
  command_timeout_ms: positiveInt(60_000).default(50),
  connect_timeout_ms: positiveInt(60_000).default(1_000),
  on_error: z
    .enum(['fail-open', 'fail-closed'], { error: 'must be fail-open or fail-closed' })
    .default('fail-open'),
});

/** Where a list of secrets comes from (JWT HS secrets, webhook signing secrets). */
const secretListRefs = {
  secret_env: envName.optional(),
  secrets_env: z.array(envName).min(1).optional(),
  secret_file: filePath.optional(),
  secret_files: z.array(filePath).min(1).optional(),
};

const jwtSection = z.strictObject({
  algorithms: z.array(z.string()).min(1, { error: 'must list at least one algorithm' }).optional(),
  issuer: stringList.optional(),
  audience: stringList.optional(),
  ...secretListRefs,
  public_keys: z
    .array(
      z.strictObject({
        kid: z.string().min(1).optional(),
        pem: z.string().min(1).optional(),
        file: filePath.optional(),
      }),
    )
    .optional(),
  jwks_url: httpUrl('the JWKS document').optional(),
  jwks_refresh_interval_ms: positiveInt(86_400_000).default(60_000),
  principal_claim: z.string().min(1).default('sub'),
  scope_claim: z.string().min(1).default('scope'),
  clock_tolerance_s: nonNegativeInt(60).default(30),
  max_token_age_s: positiveInt(31_536_000).optional(),
});

const authSection = z.strictObject({ jwt: jwtSection.prefault({}) });

const streamName = z.string().regex(STREAM_NAME, { error: 'must match [A-Za-z0-9_-]{1,64}' });

const streamEntry = z.strictObject({
  dis_stream: streamName,
  stream_id: z.string().min(1).max(128).optional(),
  partitions: positiveInt(1000),
  type: z.enum(['COMMON', 'ADVANCED'], { error: 'must be COMMON or ADVANCED' }).default('COMMON'),
  partition_key_pointer: jsonPointer.optional(),
  limits: z
    .strictObject({
      records_per_s: positiveInt(10_000_000).optional(),
      bytes_per_s: positiveInt(10_000 * MIB).optional(),
      burst_records: positiveInt(10_000_000).optional(),
      burst_bytes: positiveInt(10_000 * MIB).optional(),
    })
    .optional(),
});

const streamsSection = z.record(streamName, streamEntry);

const principalLimits = {
  requests_per_s: positiveInt(1_000_000),
  burst: positiveInt(10_000_000),
  records_per_s: positiveInt(10_000_000),
  bytes_per_s: positiveInt(10_000 * MIB),
};

const limitsSection = z.strictObject({
  default: z
    .strictObject({
      requests_per_s: principalLimits.requests_per_s.default(100),
      burst: principalLimits.burst.default(200),
      records_per_s: principalLimits.records_per_s.default(5_000),
      bytes_per_s: principalLimits.bytes_per_s.default(5 * MIB),
    })
    .prefault({}),
  principals: z.record(z.string().min(1), z.strictObject(principalLimits).partial()).default({}),
  max_records_per_request: positiveInt(10_000).default(500),
  max_record_bytes: positiveInt(MAX_RECORD_BYTES).default(MAX_RECORD_BYTES),
  max_json_depth: positiveInt(1_000).default(64),
});

const idempotencySection = z.strictObject({ ttl_s: positiveInt(30 * 86_400).default(86_400) });

const spoolSection = z.strictObject({
  max_entries: positiveInt(100_000_000).default(100_000),
  batch_size: positiveInt(500).default(200),
  block_ms: positiveInt(60_000).default(1_000),
  claim_idle_ms: positiveInt(86_400_000).default(30_000),
  retry_initial_ms: positiveInt(3_600_000).default(200),
  retry_max_ms: positiveInt(3_600_000).default(30_000),
  put_timeout_ms: positiveInt(300_000).default(10_000),
  receipt_ttl_s: positiveInt(30 * 86_400).default(86_400),
  dead_letter_max_entries: positiveInt(100_000_000).default(100_000),
  /** Replicas that must confirm (WAIT) a 202, a stored idempotent verdict or a receipt. */
  min_replica_acks: z
    .union([z.literal('auto'), nonNegativeInt(16)], {
      error: 'must be auto or a whole number of replicas (0 to 16)',
    })
    .default('auto'),
  replica_ack_timeout_ms: positiveInt(60_000).default(500),
});

const ingestSection = z.strictObject({
  batching: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** 0 = coalesce what is queued by the next turn of the event loop (setImmediate). */
      linger_ms: z.number().int().min(0).max(1000).default(0),
      max_in_flight: positiveInt(64).default(8),
      max_queued_records: positiveInt(10_000_000).default(20_000),
    })
    .prefault({}),
});

const headerName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, {
  error: 'must be an HTTP header name',
});

const hmacBlock = z.strictObject({
  header: headerName,
  algorithm: z.enum(['sha256', 'sha512'], { error: 'must be sha256 or sha512' }).default('sha256'),
  encoding: z.enum(['hex', 'base64'], { error: 'must be hex or base64' }).default('hex'),
  prefix: z.string().min(1).optional(),
  timestamp_header: headerName.optional(),
  signed_content: z.string().min(1).optional(),
  delivery_id_header: headerName.optional(),
});

const webhookSource = z.strictObject({
  profile: z.enum(WEBHOOK_PROFILES, { error: `must be one of ${WEBHOOK_PROFILES.join(', ')}` }),
  ...secretListRefs,
  stream: streamName,
  mode: z.enum(['async', 'sync'], { error: 'must be async or sync' }).default('async'),
  tolerance_s: positiveInt(3_600).default(300),
  max_body_bytes: positiveInt(MAX_RECORD_BYTES).default(MAX_RECORD_BYTES),
  delivery_id_pointer: jsonPointer.optional(),
  partition_key_pointer: jsonPointer.optional(),
  replay_on_redis_down: z
    .enum(['forward', 'reject'], { error: 'must be forward or reject' })
    .default('reject'),
  hmac: hmacBlock.optional(),
});

const webhooksSection = z.strictObject({
  sources: z
    .record(
      z.string().regex(STREAM_NAME, { error: 'must match [A-Za-z0-9_-]{1,64}' }),
      webhookSource,
    )
    .default({}),
});

/** The whole file; `load-config.ts` parses it section by section through `.shape`. */
export const fileSchema = z.strictObject({
  server: serverSection.prefault({}),
  log: logSection.prefault({}),
  dis: disSection.prefault({}),
  redis: redisSection.prefault({}),
  auth: authSection.prefault({}),
  streams: streamsSection.default({}),
  limits: limitsSection.prefault({}),
  idempotency: idempotencySection.prefault({}),
  webhooks: webhooksSection.prefault({}),
  spool: spoolSection.prefault({}),
  ingest: ingestSection.prefault({}),
});

export type FileConfig = z.output<typeof fileSchema>;
export type FileSection = keyof FileConfig;
export const FILE_SECTIONS: readonly FileSection[] = [
  'server',
  'log',
  'dis',
  'redis',
  'auth',
  'streams',
  'limits',
  'idempotency',
  'webhooks',
  'spool',
  'ingest',
];

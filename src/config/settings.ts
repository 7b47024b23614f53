import { isIP } from 'node:net';
import { z } from 'zod';
import { MAX_RECORD_BYTES, MAX_REQUEST_DATA_BYTES, STREAM_NAME } from '../dis/wire.ts';
// The settings of each section of the configuration: every setting once, with its bounds and
// default. schema.ts binds them to the sections' transforms (resolve.ts, jwt.ts), which turn them
// into the runtime shape, `Config` (types.ts).
// Keys are camelCase here and snake_case in the file and in every message: loadConfig converts one
// to the other by rule, never the names chosen by the operator (streams, limits.principals,
// webhooks.sources). Secrets appear in the file only as references (`*_env` names, `*_file` paths)
// and are resolved by the transforms through the injected reader.

const MIB = 1024 * 1024;
const HOUR_MS = 3_600_000;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const WEBHOOK_PROFILES = ['standard-webhooks', 'github', 'stripe', 'slack', 'hmac'] as const;

/** The name of an environment variable that holds a secret (`sk_env: DIS_SK`). */
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
  error: 'must be an environment variable name',
});

/** The path of a file that holds a secret; read through the injected readFile. */
const filePath = z.string().min(1, { error: 'must be a file path' });

const positiveInt = (max: number) =>
  z
    .int({ error: 'must be an integer' })
    .min(1, { error: 'must be at least 1' })
    .max(max, { error: `must be at most ${max}` });

const nonNegativeInt = (max: number) =>
  z
    .int({ error: 'must be an integer' })
    .min(0, { error: 'must be at least 0' })
    .max(max, { error: `must be at most ${max}` });

const durationMs = nonNegativeInt(HOUR_MS);

/** RFC 6901 pointer into a JSON document; the empty pointer (whole document) is no partition key. */
const jsonPointer = z
  .string()
  .regex(/^(\/([^~/]|~[01])*)+$/, { error: 'must be an RFC 6901 JSON pointer like /user_id' });

const stringList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
  error: 'must be a string or a non-empty list of strings',
});

export const streamName = z
  .string()
  .regex(STREAM_NAME, { error: 'must match [A-Za-z0-9_-]{1,64}' });

const headerName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, {
  error: 'must be an HTTP header name',
});

function httpUrl(what: string) {
  return z.string().refine(
    (value) => {
      if (!URL.canParse(value)) return false;
      const url = new URL(value);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '';
    },
    { error: `must be an http(s) URL of ${what} without credentials` },
  );
}

const PROXY_PRESETS = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isProxyAddress(entry: string): boolean {
  if (PROXY_PRESETS.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * Express `trust proxy` as a hop count or an address list. `true` trusts any X-Forwarded-For, so a
 * caller could pick its own IP (and rate-limit key): always refused. `false` means 0 hops.
 */
const trustProxy = z
  .union([
    z.int().min(0),
    z.boolean(),
    z.string(),
    z.array(z.string()).min(1, { error: 'must list at least one address' }),
  ])
  .transform((value, ctx): number | string[] => {
    if (value === true || value === 'true') {
      ctx.issues.push({
        code: 'custom',
        input: value,
        message:
          'true is not allowed (it trusts any X-Forwarded-For); give a hop count or a CIDR list',
      });
      return z.NEVER;
    }
    if (value === false) return 0;
    if (typeof value === 'number') return value;
    const entries = (typeof value === 'string' ? value.split(',') : value)
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
    const bad = entries.filter((entry) => !isProxyAddress(entry));
    if (entries.length === 0 || bad.length > 0) {
      ctx.issues.push({
        code: 'custom',
        input: value,
        message: `must be a hop count or IPs/CIDRs (or loopback, linklocal, uniquelocal); bad: ${bad.join(', ') || '(empty)'}`,
      });
      return z.NEVER;
    }
    return entries;
  });

/** Where a list of secrets comes from (JWT HS secrets, webhook signing secrets). */
const secretListRefs = {
  secretEnv: envName.exactOptional(),
  secretsEnv: z.array(envName).min(1).exactOptional(),
  secretFile: filePath.exactOptional(),
  secretFiles: z.array(filePath).min(1).exactOptional(),
};

/**
 * What one section's checks need from another, read from the input before it is parsed, so that a
 * mistake in one section does not hide the problems of the others.
 */
export interface SectionLinks {
  /** No DIS endpoint outside production: the embedded emulator, and the dev stream. */
  readonly embedded: boolean;
  /** Logical stream names (with the dev stream), or undefined when `streams` is not a mapping. */
  readonly streamNames: ReadonlySet<string> | undefined;
  /** How long one DIS request may take: `dis.connect_timeout_ms` + 2 × `dis.request_timeout_ms`. */
  readonly disRequestBoundMs: number;
  /** `server.default_wait_ms` and `server.max_wait_ms`, which bound the webhooks' sync wait. */
  readonly waits: { readonly defaultWaitMs: number; readonly maxWaitMs: number };
}

/** Read on their own too: the webhooks' sync wait depends on them (SectionLinks). */
export const serverWaits = {
  /** Deadline for DIS retries when the caller sends no `Prefer: wait`; below the LB timeout. */
  defaultWaitMs: durationMs.default(10_000),
  /** Cap for `Prefer: wait`. */
  maxWaitMs: durationMs.default(25_000),
};

export const serverSection = z.strictObject({
  host: z.string().min(1).default('0.0.0.0'),
  port: nonNegativeInt(65535).default(8080),
  /** Express `trust proxy`: a hop count or a list of IPs/CIDRs/presets; never `true`. */
  trustProxy: trustProxy.default(0),
  bodyLimitBytes: positiveInt(64 * MIB).default(5 * MIB),
  /** How long an idle keep-alive connection stays open; must exceed the load balancer's. */
  keepAliveTimeoutMs: durationMs.default(65_000),
  /** From a request's first byte (a new connection's accept) until its headers are in; 0: none. */
  headersTimeoutMs: durationMs.default(10_000),
  /** From a request's first byte until its body is in (not the answer's time); 0: none. */
  requestTimeoutMs: durationMs.default(30_000),
  /** How often Node checks the two above: a request is cut at most this much after its bound. */
  connectionsCheckIntervalMs: positiveInt(60_000).default(1_000),
  shutdownDelayMs: durationMs.default(5_000),
  shutdownTimeoutMs: durationMs.default(25_000),
  ...serverWaits,
});
export type ServerSettings = z.output<typeof serverSection>;

export const logSection = z.strictObject({
  level: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
});

const disAuth = z.strictObject({
  type: z.enum(['aksk', 'token'], { error: 'must be aksk or token' }).default('aksk'),
  akEnv: envName.exactOptional(),
  akFile: filePath.exactOptional(),
  skEnv: envName.exactOptional(),
  skFile: filePath.exactOptional(),
  securityTokenEnv: envName.exactOptional(),
  securityTokenFile: filePath.exactOptional(),
  iamEndpoint: httpUrl('the IAM endpoint').exactOptional(),
  user: z.string().min(1).exactOptional(),
  domain: z.string().min(1).exactOptional(),
  passwordEnv: envName.exactOptional(),
  passwordFile: filePath.exactOptional(),
});
export type DisAuthSettings = z.output<typeof disAuth>;

/** Read on their own too: the spool's claim check depends on them (SectionLinks). */
export const disTimeouts = {
  requestTimeoutMs: positiveInt(300_000).default(5_000),
  connectTimeoutMs: positiveInt(300_000).default(2_000),
};

const disWhere = {
  endpoint: httpUrl('the DIS endpoint').exactOptional(),
  region: z
    .string()
    .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, { error: 'must be a region id like cn-north-4' })
    .exactOptional(),
  projectId: z
    .string()
    .regex(/^[0-9a-f]{32}$/, { error: 'must be a project id: 32 lowercase hex characters' })
    .exactOptional(),
};

const disBreaker = z.strictObject({
  // DIS locks an AK after 5 bad signatures in a row: the breaker must open before that.
  failureThreshold: positiveInt(4).default(3),
  coolDownMs: positiveInt(3_600_000).default(60_000),
});

/** The settings of one DIS client besides where it goes and who it is. */
const disTuning = {
  /**
   * Production mode allows plain http to a non-loopback DIS endpoint only with this: a network the
   * operator vouches for (the compose stack's emulator). Signed requests then cross it unencrypted.
   */
  allowInsecureHttp: z.boolean({ error: 'must be true or false' }).default(false),
  maxRecordsPerRequest: positiveInt(1000).default(500),
  maxBytesPerRequest: positiveInt(MAX_REQUEST_DATA_BYTES).default(4 * MIB),
  maxConcurrentRequests: positiveInt(64).default(4),
  /**
   * Requests a PutRecords call may spend resending, in parts, records DIS refused whole for
   * something one record may carry (by caller, then halves); 0: fail them all as DIS said.
   */
  maxIsolationRequests: nonNegativeInt(1000).default(32),
  ...disTimeouts,
  breaker: disBreaker.prefault({}),
};

export const disSettings = z.strictObject({
  ...disWhere,
  auth: disAuth.prefault({}),
  ...disTuning,
});
export type DisSettings = z.output<typeof disSettings>;

/**
 * `streams.<name>.dis`: a DIS target of the stream's own. Nothing has a default here: what it does
 * not say comes from the top-level `dis` (resolve.ts, resolveStreamTargets).
 */
export const streamDisSettings = z.strictObject({
  ...disWhere,
  auth: disAuth.exactOptional(),
  allowInsecureHttp: disTuning.allowInsecureHttp.unwrap().exactOptional(),
  maxRecordsPerRequest: disTuning.maxRecordsPerRequest.unwrap().exactOptional(),
  maxBytesPerRequest: disTuning.maxBytesPerRequest.unwrap().exactOptional(),
  maxConcurrentRequests: disTuning.maxConcurrentRequests.unwrap().exactOptional(),
  maxIsolationRequests: disTuning.maxIsolationRequests.unwrap().exactOptional(),
  requestTimeoutMs: disTimeouts.requestTimeoutMs.unwrap().exactOptional(),
  connectTimeoutMs: disTimeouts.connectTimeoutMs.unwrap().exactOptional(),
  breaker: disBreaker.exactOptional(),
});
export type StreamDisSettings = z.output<typeof streamDisSettings>;

const hostPort = (defaultPort: number) =>
  z.strictObject({ host: z.string().min(1), port: nonNegativeInt(65535).default(defaultPort) });

export const redisSettings = z.strictObject({
  url: z
    .string()
    .refine((v) => URL.canParse(v) && /^rediss?:$/.test(new URL(v).protocol), {
      error: 'must be a redis:// or rediss:// URL',
    })
    .exactOptional(),
  sentinels: z.array(hostPort(26379)).min(1).exactOptional(),
  name: z.string().min(1).exactOptional(),
  nodes: z.array(hostPort(6379)).min(1).exactOptional(),
  db: nonNegativeInt(15).exactOptional(),
  passwordEnv: envName.exactOptional(),
  passwordFile: filePath.exactOptional(),
  sentinelPasswordEnv: envName.exactOptional(),
  sentinelPasswordFile: filePath.exactOptional(),
  /** Bounds on Redis calls. */
  commandTimeoutMs: positiveInt(60_000).default(50),
  connectTimeoutMs: positiveInt(60_000).default(1_000),
  /** What the rate limiter does while Redis is unreachable. */
  onError: z
    .enum(['fail-open', 'fail-closed'], { error: 'must be fail-open or fail-closed' })
    .default('fail-open'),
});
export type RedisSettings = z.output<typeof redisSettings>;

export const jwtSettings = z.strictObject({
  algorithms: z
    .array(z.string())
    .min(1, { error: 'must list at least one algorithm' })
    .exactOptional(),
  issuer: stringList.exactOptional(),
  audience: stringList.exactOptional(),
  ...secretListRefs,
  /** HS secrets named by a `kid`, for issuers that stamp one on their HS tokens. */
  hsKeys: z
    .array(
      z.strictObject({
        kid: z.string().min(1),
        secretEnv: envName.exactOptional(),
        secretFile: filePath.exactOptional(),
      }),
    )
    .min(1)
    .exactOptional(),
  publicKeys: z
    .array(
      z.strictObject({
        kid: z.string().min(1).exactOptional(),
        pem: z.string().min(1).exactOptional(),
        file: filePath.exactOptional(),
      }),
    )
    .exactOptional(),
  jwksUrl: httpUrl('the JWKS document').exactOptional(),
  /** Minimum gap between JWKS refetches triggered by an unknown `kid`. */
  jwksRefreshIntervalMs: positiveInt(86_400_000).default(60_000),
  /** The cached JWKS is refetched once older than this: the bound on a key revocation's delay. */
  jwksMaxAgeS: positiveInt(86_400).default(600),
  /** How long a request waits for a JWKS fetch; the fetch itself may go on (up to 5 s) for the cache. */
  jwksFetchTimeoutMs: positiveInt(5_000).default(1_000),
  principalClaim: z.string().min(1).default('sub'),
  scopeClaim: z.string().min(1).default('scope'),
  clockToleranceS: nonNegativeInt(60).default(30),
  maxTokenAgeS: positiveInt(31_536_000).exactOptional(),
});
export type JwtSettings = z.output<typeof jwtSettings>;

export const streamEntry = z.strictObject({
  disStream: streamName,
  streamId: z.string().min(1).max(128).exactOptional(),
  partitions: positiveInt(1000),
  type: z.enum(['COMMON', 'ADVANCED'], { error: 'must be COMMON or ADVANCED' }).default('COMMON'),
  /** RFC 6901 pointer into a record's `data` giving the default partition key. */
  partitionKeyPointer: jsonPointer.exactOptional(),
  /**
   * `per_key`: records with the same partition key, explicit hash key or partition id reach DIS in
   * the order this instance accepted them (one record of a key with DIS at a time).
   */
  ordering: z.enum(['none', 'per_key'], { error: 'must be none or per_key' }).default('none'),
  limits: z
    .strictObject({
      recordsPerS: positiveInt(10_000_000).exactOptional(),
      bytesPerS: positiveInt(10_000 * MIB).exactOptional(),
      burstRecords: positiveInt(10_000_000).exactOptional(),
      burstBytes: positiveInt(10_000 * MIB).exactOptional(),
    })
    .exactOptional(),
  /** Another DIS project, region or credentials than the top-level `dis` (README "Several DIS projects"). */
  dis: streamDisSettings.exactOptional(),
});
export type StreamSettings = z.output<typeof streamEntry>;

const principalLimits = {
  requestsPerS: positiveInt(1_000_000),
  burst: positiveInt(10_000_000),
  recordsPerS: positiveInt(10_000_000),
  bytesPerS: positiveInt(10_000 * MIB),
};

export const limitsSection = z.strictObject({
  default: z
    .strictObject({
      requestsPerS: principalLimits.requestsPerS.default(100),
      burst: principalLimits.burst.default(200),
      recordsPerS: principalLimits.recordsPerS.default(5_000),
      bytesPerS: principalLimits.bytesPerS.default(5 * MIB),
    })
    .prefault({}),
  principals: z
    .record(
      z.string().min(1),
      z.strictObject({
        requestsPerS: principalLimits.requestsPerS.exactOptional(),
        burst: principalLimits.burst.exactOptional(),
        recordsPerS: principalLimits.recordsPerS.exactOptional(),
        bytesPerS: principalLimits.bytesPerS.exactOptional(),
      }),
    )
    .default({}),
  maxRecordsPerRequest: positiveInt(10_000).default(500),
  maxRecordBytes: positiveInt(MAX_RECORD_BYTES).default(MAX_RECORD_BYTES),
  maxJsonDepth: positiveInt(1_000).default(64),
});

export const idempotencySection = z.strictObject({
  ttlS: positiveInt(30 * 86_400).default(86_400),
});

export const spoolSettings = z.strictObject({
  /** Unsent entries per DIS stream; a full spool answers 503. */
  maxEntries: positiveInt(100_000_000).default(100_000),
  /** Entries per forwarder read, one PutRecords each (at most 500). */
  batchSize: positiveInt(500).default(200),
  blockMs: positiveInt(60_000).default(1_000),
  /** Entries pending this long at one instance are taken over by another. */
  claimIdleMs: positiveInt(86_400_000).default(30_000),
  retryInitialMs: positiveInt(3_600_000).default(200),
  retryMaxMs: positiveInt(3_600_000).default(30_000),
  /** Deadline of one batch's PutRecords, client retries included. */
  putTimeoutMs: positiveInt(300_000).default(10_000),
  receiptTtlS: positiveInt(30 * 86_400).default(86_400),
  deadLetterMaxEntries: positiveInt(100_000_000).default(100_000),
  /**
   * Replicas that must confirm (WAIT) a 202, a stored idempotent verdict or a receipt; `auto`: 1
   * when the primary has a connected replica at startup, else 0.
   */
  minReplicaAcks: z
    .union([z.literal('auto'), nonNegativeInt(16)], {
      error: 'must be auto or a whole number of replicas (0 to 16)',
    })
    .default('auto'),
  replicaAckTimeoutMs: positiveInt(60_000).default(500),
});
export type SpoolSettings = z.output<typeof spoolSettings>;

export const ingestSection = z.strictObject({
  /** Micro-batching of PutRecords per DIS stream (design.md §5). */
  batching: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** 0 = coalesce what is queued by the next turn of the event loop (setImmediate). */
      lingerMs: z.number().int().min(0).max(1000).default(0),
      /** PutRecords calls per DIS stream in flight at once. */
      maxInFlight: positiveInt(64).default(8),
      /** Records waiting per DIS stream before new requests get 503. */
      maxQueuedRecords: positiveInt(10_000_000).default(20_000),
    })
    .prefault({}),
});

const hmacBlock = z.strictObject({
  header: headerName,
  algorithm: z.enum(['sha256', 'sha512'], { error: 'must be sha256 or sha512' }).default('sha256'),
  encoding: z.enum(['hex', 'base64'], { error: 'must be hex or base64' }).default('hex'),
  prefix: z.string().min(1).exactOptional(),
  timestampHeader: headerName.exactOptional(),
  /** Template of the signed bytes, e.g. `{timestamp}.{body}`; the body alone when absent. */
  signedContent: z.string().min(1).exactOptional(),
  deliveryIdHeader: headerName.exactOptional(),
});

const webhookSource = z.strictObject({
  profile: z.enum(WEBHOOK_PROFILES, { error: `must be one of ${WEBHOOK_PROFILES.join(', ')}` }),
  ...secretListRefs,
  /** A logical stream: a key of `streams`. */
  stream: streamName,
  mode: z.enum(['async', 'sync'], { error: 'must be async or sync' }).default('async'),
  toleranceS: positiveInt(3_600).default(300),
  maxBodyBytes: positiveInt(MAX_RECORD_BYTES).default(MAX_RECORD_BYTES),
  deliveryIdPointer: jsonPointer.exactOptional(),
  partitionKeyPointer: jsonPointer.exactOptional(),
  replayOnRedisDown: z
    .enum(['forward', 'reject'], { error: 'must be forward or reject' })
    .default('reject'),
  hmac: hmacBlock.exactOptional(),
});
export type WebhookSourceSettings = z.output<typeof webhookSource>;

export const webhooksSettings = z.strictObject({
  sources: z.record(streamName, webhookSource).default({}),
  /** How long a sync source waits for DIS; default min(server.default_wait_ms, 5 s). */
  syncWaitMs: positiveInt(HOUR_MS).exactOptional(),
  /** How long an accepted delivery id is remembered; default from the widest tolerance. */
  replayTtlS: positiveInt(30 * 86_400).exactOptional(),
});
export type WebhooksSettings = z.output<typeof webhooksSettings>;

/** A client of the DIS-compatible front door: an AK/SK the gateway issued, and who it is. */
const frontdoorClient = z.strictObject({
  /** The access key the client signs with: an id, not a secret (DIS's own AKs are 20 characters). */
  ak: z.string().regex(/^[A-Za-z0-9_-]{8,128}$/, { error: 'must be 8–128 of [A-Za-z0-9_-]' }),
  skEnv: envName.exactOptional(),
  skFile: filePath.exactOptional(),
  /** The principal its requests count as (rate limits, receipts, logs), like a token's `sub`. */
  principal: z.string().min(1).max(256),
  /** What a token's `scope` would hold: `dis:write:<logical stream>` or `dis:write:*`. */
  scopes: stringList,
});

export const frontdoorSettings = z.strictObject({
  /** `POST /v2/{project_id}/records` and the read-only stream calls; on by default. */
  enabled: z.boolean({ error: 'must be true or false' }).default(true),
  clients: z.record(streamName, frontdoorClient).default({}),
  /** The older Python SDK sends partitions × 1,000 records in one call; DIS calls are chunked. */
  maxRecordsPerRequest: positiveInt(100_000).default(50_000),
  /**
   * Take `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD` (node-core sends it for a Content-Type other than
   * exactly application/json): the body is then not covered by the signature. Off by default.
   */
  allowUnsignedPayload: z.boolean({ error: 'must be true or false' }).default(false),
  /** DIS's API gateway takes AK/SK-signed bodies of up to 12 MB. */
  bodyLimitBytes: positiveInt(64 * MIB).default(12 * MIB),
  /** How long a DescribeStream answer from DIS is reused. */
  describeCacheMs: durationMs.default(10_000),
});
export type FrontdoorSettings = z.output<typeof frontdoorSettings>;

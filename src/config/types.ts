import type { StreamType } from '../dis/wire.ts';

// The effective configuration: camelCase, defaults filled in, secrets resolved. Built only by
// loadConfig; everything downstream takes the slice it needs and never looks at the environment.

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const JWT_ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

export const WEBHOOK_PROFILES = ['standard-webhooks', 'github', 'stripe', 'slack', 'hmac'] as const;
export type WebhookProfile = (typeof WEBHOOK_PROFILES)[number];

export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  /** Express `trust proxy`: a hop count or a list of IPs/CIDRs/presets; never `true`. */
  readonly trustProxy: number | readonly string[];
  readonly bodyLimitBytes: number;
  /** Must exceed the load balancer's idle timeout. */
  readonly keepAliveTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly shutdownDelayMs: number;
  readonly shutdownTimeoutMs: number;
  /** Deadline for DIS retries when the caller sends no `Prefer: wait`; below the LB timeout. */
  readonly defaultWaitMs: number;
  /** Cap for `Prefer: wait`. */
  readonly maxWaitMs: number;
}

export type DisCredentials =
  | {
      readonly type: 'aksk';
      readonly ak: string;
      readonly sk: string;
      readonly securityToken?: string;
    }
  | {
      readonly type: 'token';
      readonly iamEndpoint: string;
      readonly user: string;
      readonly password: string;
      readonly domain: string;
    };

export type DisConfig =
  | { readonly mode: 'embedded' }
  | {
      readonly mode: 'remote';
      readonly endpoint: string;
      readonly region: string;
      readonly projectId: string;
      readonly auth: DisCredentials;
      readonly maxRecordsPerRequest: number;
      readonly maxBytesPerRequest: number;
      readonly maxConcurrentRequests: number;
      readonly requestTimeoutMs: number;
      readonly connectTimeoutMs: number;
      readonly breaker: { readonly failureThreshold: number; readonly coolDownMs: number };
    };

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export type RedisConnection =
  /** A password from `redis.password_env`/`_file` is folded into the URL. */
  | { readonly mode: 'standalone'; readonly url: string }
  | {
      readonly mode: 'sentinel';
      readonly sentinels: readonly HostPort[];
      readonly name: string;
      /** For the Redis master/replicas. */
      readonly password?: string;
      /** For the Sentinel processes, when they require auth. */
      readonly sentinelPassword?: string;
      readonly db?: number;
    }
  | { readonly mode: 'cluster'; readonly nodes: readonly HostPort[]; readonly password?: string };

export interface RedisClientOptions {
  readonly commandTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** What the rate limiter does while Redis is unreachable. */
  readonly onError: 'fail-open' | 'fail-closed';
}

/**
 * `mode: 'memory'` is dev only (no Redis). Every other mode is one connection shape plus the shared
 * client options, flattened so that `switch (redis.mode)` narrows both at once.
 */
export type RedisConfig = { readonly mode: 'memory' } | (RedisConnection & RedisClientOptions);

export interface JwtPublicKey {
  readonly kid?: string;
  readonly pem: string;
}

export interface JwtConfig {
  readonly algorithms: readonly JwtAlgorithm[];
  readonly issuer: readonly string[];
  readonly audience: readonly string[];
  readonly secrets: readonly string[];
  readonly publicKeys: readonly JwtPublicKey[];
  readonly jwksUrl?: string;
  /** Minimum gap between JWKS refetches triggered by an unknown `kid`. */
  readonly jwksRefreshIntervalMs: number;
  readonly principalClaim: string;
  readonly scopeClaim: string;
  readonly clockToleranceS: number;
  readonly maxTokenAgeS?: number;
  /** No key configured outside production: the composition root generates an HS256 dev secret. */
  readonly dev: boolean;
}

export interface StreamLimits {
  readonly recordsPerS?: number;
  readonly bytesPerS?: number;
  readonly burstRecords?: number;
  readonly burstBytes?: number;
}

export interface StreamConfig {
  readonly disStream: string;
  readonly streamId?: string;
  readonly partitions: number;
  readonly type: StreamType;
  /** RFC 6901 pointer into a record's `data` giving the default partition key. */
  readonly partitionKeyPointer?: string;
  readonly limits?: StreamLimits;
}

export interface PrincipalLimits {
  readonly requestsPerS: number;
  readonly burst: number;
  readonly recordsPerS: number;
  readonly bytesPerS: number;
}

export interface LimitsConfig {
  readonly default: PrincipalLimits;
  readonly principals: Readonly<Record<string, Partial<PrincipalLimits>>>;
  readonly maxRecordsPerRequest: number;
  readonly maxRecordBytes: number;
  readonly maxJsonDepth: number;
}

export interface HmacProfileConfig {
  readonly header: string;
  readonly algorithm: 'sha256' | 'sha512';
  readonly encoding: 'hex' | 'base64';
  readonly prefix?: string;
  readonly timestampHeader?: string;
  /** Template of the signed bytes, e.g. `{timestamp}.{body}`; the body alone when absent. */
  readonly signedContent?: string;
  readonly deliveryIdHeader?: string;
}

export interface WebhookSourceConfig {
  readonly profile: WebhookProfile;
  readonly secrets: readonly string[];
  /** A logical stream: a key of `Config.streams`. */
  readonly stream: string;
  readonly mode: 'async' | 'sync';
  readonly toleranceS: number;
  readonly maxBodyBytes: number;
  readonly deliveryIdPointer?: string;
  readonly partitionKeyPointer?: string;
  readonly replayOnRedisDown: 'forward' | 'reject';
  readonly hmac?: HmacProfileConfig;
}

/** Micro-batching of PutRecords per DIS stream (design.md §5). */
export interface IngestConfig {
  readonly batching: {
    readonly enabled: boolean;
    /** 0: flush on the next turn of the event loop; more trades latency for fewer DIS calls. */
    readonly lingerMs: number;
    /** PutRecords calls per DIS stream in flight at once. */
    readonly maxInFlight: number;
    /** Records waiting per DIS stream before new requests get 503. */
    readonly maxQueuedRecords: number;
  };
}

/** The async path: Redis Streams spool, forwarder and receipts. */
export interface SpoolConfig {
  /** Unsent entries per DIS stream; a full spool answers 503. */
  readonly maxEntries: number;
  /** Entries per forwarder read, one PutRecords each (at most 500). */
  readonly batchSize: number;
  readonly blockMs: number;
  /** Entries pending this long at one instance are taken over by another. */
  readonly claimIdleMs: number;
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  /** Deadline of one batch's PutRecords, client retries included. */
  readonly putTimeoutMs: number;
  readonly receiptTtlS: number;
  readonly deadLetterMaxEntries: number;
  /**
   * Replicas that must confirm an acknowledged write (WAIT); `auto`: 1 when the primary has a
   * connected replica at startup, else 0.
   */
  readonly minReplicaAcks: number | 'auto';
  readonly replicaAckTimeoutMs: number;
}

export interface Config {
  readonly production: boolean;
  readonly server: ServerConfig;
  readonly log: { readonly level: LogLevel };
  readonly dis: DisConfig;
  readonly redis: RedisConfig;
  readonly auth: { readonly jwt: JwtConfig };
  readonly streams: Readonly<Record<string, StreamConfig>>;
  readonly limits: LimitsConfig;
  readonly idempotency: { readonly ttlS: number };
  readonly webhooks: { readonly sources: Readonly<Record<string, WebhookSourceConfig>> };
  readonly spool: SpoolConfig;
  readonly ingest: IngestConfig;
}

import { PARTITION_WRITE_LIMITS } from '../dis/wire.ts';
import type { Limit, PrincipalLimits, RateLimitPolicy, StreamLimits } from './types.ts';

export interface PrincipalLimitsConfig {
  readonly requestsPerS: number;
  /** Requests that may arrive at once. */
  readonly burst: number;
  readonly recordsPerS: number;
  readonly bytesPerS: number;
  /** Default: PRINCIPAL_BURST_SECONDS worth of recordsPerS. */
  readonly burstRecords?: number | undefined;
  /** Default: PRINCIPAL_BURST_SECONDS worth of bytesPerS. */
  readonly burstBytes?: number | undefined;
}

export interface StreamLimitsConfig {
  readonly partitions: number;
  readonly type: 'COMMON' | 'ADVANCED';
  readonly limits?:
    | {
        readonly recordsPerS?: number | undefined;
        readonly bytesPerS?: number | undefined;
        readonly burstRecords?: number | undefined;
        readonly burstBytes?: number | undefined;
      }
    | undefined;
}

export interface RateLimitPolicyConfig {
  readonly default: PrincipalLimitsConfig;
  readonly principals: Readonly<Record<string, Partial<PrincipalLimitsConfig>>>;
  readonly streams: Readonly<Record<string, StreamLimitsConfig>>;
}

/**
 * A principal's records and bytes may burst to two seconds of their rate: a caller that batches
 * (one request a second or so) is not punished for the batching, yet cannot pile up more than
 * that. A stream's burst is one second, because DIS counts per second per partition.
 */
export const PRINCIPAL_BURST_SECONDS = 2;
export const STREAM_BURST_SECONDS = 1;

export function createRateLimitPolicy(config: RateLimitPolicyConfig): RateLimitPolicy {
  // Built up front so a bad entry fails at startup, not on the first request that uses it.
  const defaults = toPrincipalLimits(config.default);
  const principals = new Map(
    Object.entries(config.principals).map(([name, override]) => [
      name,
      toPrincipalLimits(mergePrincipal(config.default, override)),
    ]),
  );
  const streams = new Map(
    Object.entries(config.streams).map(([name, entry]) => [name, toStreamLimits(entry)]),
  );
  // Unknown streams are refused (404) before limits apply; if one slips through, it gets the
  // smallest real stream's limits rather than none.
  const unknownStream = toStreamLimits({ partitions: 1, type: 'COMMON' });

  return {
    forPrincipal: (principal) => principals.get(principal) ?? defaults,
    forStream: (stream) => streams.get(stream) ?? unknownStream,
  };
}

/**
 * Missing fields come from the default; an override that raises `requestsPerS` without a `burst`
 * keeps the default's burst duration (100/s with 200 → 1000/s gets 2000), so a faster principal
 * is not left with a burst smaller than one second of its rate.
 */
function mergePrincipal(
  base: PrincipalLimitsConfig,
  override: Partial<PrincipalLimitsConfig>,
): PrincipalLimitsConfig {
  const requestsPerS = override.requestsPerS ?? base.requestsPerS;
  const burst =
    override.burst ??
    (override.requestsPerS === undefined
      ? base.burst
      : Math.max(1, Math.round((base.burst / base.requestsPerS) * requestsPerS)));
  return {
    requestsPerS,
    burst,
    recordsPerS: override.recordsPerS ?? base.recordsPerS,
    bytesPerS: override.bytesPerS ?? base.bytesPerS,
    burstRecords:
      override.burstRecords ?? (override.recordsPerS === undefined ? base.burstRecords : undefined),
    burstBytes:
      override.burstBytes ?? (override.bytesPerS === undefined ? base.burstBytes : undefined),
  };
}

function toPrincipalLimits(config: PrincipalLimitsConfig): PrincipalLimits {
  return {
    requests: limit(config.requestsPerS, config.burst),
    records: limit(
      config.recordsPerS,
      config.burstRecords ?? config.recordsPerS * PRINCIPAL_BURST_SECONDS,
    ),
    bytes: limit(config.bytesPerS, config.burstBytes ?? config.bytesPerS * PRINCIPAL_BURST_SECONDS),
  };
}

function toStreamLimits(config: StreamLimitsConfig): StreamLimits {
  // A stream's default follows DIS's own per-partition write limits, so callers meet our 429 first.
  const perPartition = PARTITION_WRITE_LIMITS[config.type];
  const recordsPerS =
    config.limits?.recordsPerS ?? perPartition.recordsPerSecond * config.partitions;
  const bytesPerS = config.limits?.bytesPerS ?? perPartition.bytesPerSecond * config.partitions;
  return {
    records: limit(recordsPerS, config.limits?.burstRecords ?? recordsPerS * STREAM_BURST_SECONDS),
    bytes: limit(bytesPerS, config.limits?.burstBytes ?? bytesPerS * STREAM_BURST_SECONDS),
  };
}

function limit(ratePerS: number, burst: number): Limit {
  if (!(ratePerS > 0) || !Number.isFinite(ratePerS)) {
    throw new RangeError(`rate must be a positive number, got ${ratePerS}`);
  }
  if (!(burst >= 1) || !Number.isFinite(burst)) {
    throw new RangeError(`burst must be at least 1, got ${burst}`);
  }
  return { ratePerS, burst: Math.floor(burst) };
}

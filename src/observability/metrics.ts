import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BreakerState } from '../dis/breaker.ts';

// Every metric the gateway exposes at /metrics. Label values come only from bounded sets: route
// templates, status codes, configured streams and webhook sources, fixed operation names.

export interface SpoolGaugeSource {
  /** Depth, pending, oldest age and dead letters per DIS stream; called on each scrape. */
  readonly stats: () => Promise<
    readonly {
      readonly disStream: string;
      readonly depth: number;
      readonly pending: number;
      readonly oldestAgeMs: number;
      readonly deadLetters: number;
    }[]
  >;
}

/** What gateway_build_info says: the gateway's version (package.json) and the Node release. */
export interface BuildInfo {
  readonly version: string;
  readonly nodeVersion: string;
}

// prom-client's defaults that are gauges named like counters (`_total`): Prometheus's naming rules
// and `promtool check metrics` reject them, and the same counts are in nodejs_active_{handles,
// requests,resources} without the suffix.
const MISNAMED_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
] as const;

const BREAKER_VALUE: Readonly<Record<BreakerState, number>> = {
  closed: 0,
  'half-open': 1,
  open: 2,
};

export function createMetrics(build: BuildInfo) {
  const registry = new Registry();
  // No prefix: Node dashboards and alerts expect prom-client's usual process_* and nodejs_* names.
  collectDefaultMetrics({ register: registry });
  for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name);
  const registers = [registry];
  new Gauge({
    name: 'gateway_build_info',
    help: 'Always 1; the labels say which gateway version runs on which Node release',
    labelNames: ['version', 'node_version'] as const,
    registers,
  }).set({ version: build.version, node_version: build.nodeVersion }, 1);

  const metrics = {
    registry,
    ready: new Gauge({
      name: 'gateway_ready',
      help: 'Whether /readyz would answer 200 at this scrape: 1 ready, 0 not (draining, Redis)',
      registers,
    }),
    httpRequests: new Counter({
      name: 'gateway_http_requests_total',
      help: 'HTTP requests by route template, method and status',
      labelNames: ['route', 'method', 'status'] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: 'gateway_http_request_duration_seconds',
      help: 'HTTP request duration by route template, method and status',
      labelNames: ['route', 'method', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    httpClientErrors: new Counter({
      name: 'gateway_http_client_errors_total',
      help: 'Requests answered by the HTTP server before the app saw them (framing, header size, timeout, Expect), by problem code',
      labelNames: ['code'] as const,
      registers,
    }),
    records: new Counter({
      name: 'gateway_records_total',
      help: 'Records by logical stream and outcome (written, failed_retryable, failed, spooled)',
      labelNames: ['stream', 'outcome'] as const,
      registers,
    }),
    disRequests: new Counter({
      name: 'gateway_dis_requests_total',
      help: 'DIS HTTP requests by operation, status (or "error" when no answer came) and DIS target',
      labelNames: ['operation', 'status', 'dis_target'] as const,
      registers,
    }),
    disDuration: new Histogram({
      name: 'gateway_dis_request_duration_seconds',
      help: 'DIS HTTP request duration by operation and DIS target',
      labelNames: ['operation', 'dis_target'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    disRetries: new Counter({
      name: 'gateway_dis_retries_total',
      help: 'DIS retries: kind="request" (whole requests) or "records" (records resent), by DIS target',
      labelNames: ['kind', 'dis_target'] as const,
      registers,
    }),
    disPossibleDuplicates: new Counter({
      name: 'gateway_dis_possible_duplicates_total',
      help: 'Records that DIS may hold twice: resent after a lost answer, taken over from another instance, or answered with an unknown or unconfirmed outcome (a retry may write them again)',
      registers,
    }),
    disIsolatedRefusals: new Counter({
      name: 'gateway_dis_isolated_refusals_total',
      help: 'Whole PutRecords refusals (code: DIS code, or HTTP status) that may name one record, resent in parts (by caller, then halves) so only the offending records fail',
      labelNames: ['code'] as const,
      registers,
    }),
    disBreakerState: new Gauge({
      name: 'gateway_dis_breaker_state',
      help: 'DIS circuit breaker of each DIS target: 0 closed, 1 half-open, 2 open',
      labelNames: ['dis_target'] as const,
      registers,
    }),
    rateLimitDecisions: new Counter({
      name: 'gateway_ratelimit_decisions_total',
      help: 'Rate-limit decisions by result (allowed, limited) and source (redis, memory)',
      labelNames: ['result', 'source'] as const,
      registers,
    }),
    rateLimitFallbacks: new Counter({
      name: 'gateway_ratelimit_fallbacks_total',
      help: 'Decisions made by the per-instance limiter because Redis failed (fail-open)',
      registers,
    }),
    redisErrors: new Counter({
      name: 'gateway_redis_errors_total',
      help: 'Redis connection errors',
      labelNames: ['connection'] as const,
      registers,
    }),
    redisReplicationTimeouts: new Counter({
      name: 'gateway_redis_replication_timeouts_total',
      help: 'Acknowledged writes that fewer replicas than spool.min_replica_acks confirmed in time (answered 503), by write',
      labelNames: ['write'] as const,
      registers,
    }),
    authFailures: new Counter({
      name: 'gateway_auth_failures_total',
      help: 'Bearer tokens refused, by reason (callers see one 401 whatever the reason)',
      labelNames: ['reason'] as const,
      registers,
    }),
    webhookVerifications: new Counter({
      name: 'gateway_webhook_verifications_total',
      help: 'Webhook verifications by source and result (ok, or the failure reason)',
      labelNames: ['source', 'result'] as const,
      registers,
    }),
    forwarderRecords: new Counter({
      name: 'gateway_spool_forwarded_records_total',
      help: 'Spooled records handled by this instance’s forwarder: written, retried, dead_lettered, claimed',
      labelNames: ['result'] as const,
      registers,
    }),
    frontdoorAuthFailures: new Counter({
      name: 'gateway_frontdoor_auth_failures_total',
      help: 'DIS front-door requests refused 401, by reason (callers see one body whatever the reason)',
      labelNames: ['reason'] as const,
      registers,
    }),
    frontdoorThrottled: new Counter({
      name: 'gateway_frontdoor_throttled_records_total',
      help: 'DIS front-door records answered DIS.4303 by the gateway itself, by reason (rate-limit, overloaded, not-sent)',
      labelNames: ['reason'] as const,
      registers,
    }),
  };
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * A metric's child per label values, made once: prom-client hashes a label object on every
 * inc/observe, which showed on the hot path. The values must come from bounded sets (route
 * templates, methods, statuses, configured streams, operations).
 */
export function cachedChildren<C>(make: (...values: string[]) => C): (...values: string[]) => C {
  const children = new Map<string, C>();
  return (...values) => {
    const key = values.join('\u0000');
    let child = children.get(key);
    if (child === undefined) {
      child = make(...values);
      children.set(key, child);
    }
    return child;
  };
}

/** Spool gauges read on each scrape; a failed read leaves them out of that scrape. */
export function registerSpoolGauges(metrics: Metrics, source: SpoolGaugeSource): void {
  type Stats = Awaited<ReturnType<SpoolGaugeSource['stats']>>;
  // A scrape collects the four gauges at once: they share one read, made for that scrape (not the
  // previous one's).
  let reading: Promise<Stats> | undefined;
  const read = (): Promise<Stats> =>
    (reading ??= source
      .stats()
      .catch((): Stats => [])
      .finally(() => {
        reading = undefined;
      }));
  const registers = [metrics.registry];
  const gauge = (name: string, help: string, pick: (s: Stats[number]) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['dis_stream'] as const,
      registers,
      async collect() {
        const stats = await read();
        this.reset();
        for (const s of stats) this.set({ dis_stream: s.disStream }, pick(s));
      },
    });
  gauge('gateway_spool_depth', 'Entries in the spool per DIS stream', (s) => s.depth);
  gauge(
    'gateway_spool_pending',
    'Entries read by a forwarder and not yet acknowledged',
    (s) => s.pending,
  );
  gauge(
    'gateway_spool_oldest_age_seconds',
    'Age of the oldest unsent entry',
    (s) => s.oldestAgeMs / 1000,
  );
  gauge('gateway_spool_dead_letters', 'Entries in the dead-letter stream', (s) => s.deadLetters);
}

export function breakerValue(state: BreakerState): number {
  return BREAKER_VALUE[state];
}

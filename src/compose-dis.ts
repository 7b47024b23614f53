import type { BreakerState } from './dis/breaker.ts';
import {
  DEFAULT_LIMITS,
  createDisClient,
  type DisClient,
  type DisClientEvents,
} from './dis/client.ts';
import type { DisAuth, DisConnectionOptions } from './dis/connection.ts';
import { createIamTokenProvider, type TokenProvider } from './dis/token-provider.ts';
import { DEFAULT_TIMEOUTS, requestBoundMs } from './dis/transport.ts';
import { DEFAULT_DIS_TARGET } from './config/resolve.ts';
import type { Config, DisTargetConfig } from './config/types.ts';
import { InvariantError } from './errors/coded-error.ts';
import type { RecordSink } from './ingest/ingest.ts';
import { createDisFailureLog, type DisFailureLog } from './observability/dis-failures.ts';
import type { Logger } from './observability/logger.ts';
import {
  breakerValue,
  cachedChildren,
  type BuildInfo,
  type Metrics,
} from './observability/metrics.ts';

// The DIS side of the gateway: one client per DIS target (the top-level `dis`, and each distinct
// `streams.<name>.dis`), each with its own connection pool, breaker and IAM token provider, and the
// sink that sends a stream's records to its target's.

export interface DisEdges {
  readonly now: () => number;
  readonly logger: Logger;
  readonly build: BuildInfo;
}

export interface DisParts {
  /** The target's name: `dis` or `streams.<name>.dis` (the label `dis_target`). */
  readonly name: string;
  readonly client: DisClient;
  /** What the client connects with: the front door's stream calls use the same. */
  readonly connection: DisConnectionOptions;
  /** The legacy signatures' scope names it: the front door checks its clients' against it. */
  readonly region: string;
  /** Client settings the batcher sizes its PutRecords by. */
  readonly limits: { readonly maxRecordsPerRequest: number; readonly maxBytesPerRequest: number };
  /** How long one of its DIS requests may still run after its caller's deadline. */
  readonly requestBoundMs: number;
  readonly emulatorUrl?: string;
  readonly close: () => Promise<void>;
}

export interface DisTargets {
  /** The top-level `dis` (the embedded emulator in dev mode). */
  readonly main: DisParts;
  /** Every target by name, the main one included, in config order. */
  readonly byName: ReadonlyMap<string, DisParts>;
  readonly close: () => Promise<void>;
}

/** Metrics for every DIS exchange; a log line for each kind of failure and each breaker change. */
function disEvents(metrics: Metrics, log: DisFailureLog, target: string): DisClientEvents {
  const requests = cachedChildren((operation, status) =>
    metrics.disRequests.labels({ operation, status, dis_target: target }),
  );
  const durations = cachedChildren((operation) =>
    metrics.disDuration.labels({ operation, dis_target: target }),
  );
  return {
    request: (e) => {
      requests(e.operation, String(e.status)).inc();
      durations(e.operation).observe(e.durationMs / 1000);
      if (e.status === 'error' || e.status >= 300) log.failure(e);
    },
    retry: (e) => {
      metrics.disRetries.inc(
        { kind: e.kind, dis_target: target },
        e.kind === 'records' ? e.records : 1,
      );
    },
    possibleDuplicates: (e) => {
      metrics.disPossibleDuplicates.inc(e.records);
    },
    isolation: (e) => {
      metrics.disIsolatedRefusals.inc({ code: e.code });
    },
    breakerState: (state) => {
      metrics.disBreakerState.set({ dis_target: target }, breakerValue(state));
      log.breaker(state);
    },
  };
}

/** How DIS's logs and support tell the gateway's requests, and its releases, apart. */
function userAgent(build: BuildInfo): string {
  return `dis-gateway/${build.version}`;
}

async function composeEmbedded(
  config: Config,
  edges: DisEdges,
  events: DisClientEvents,
): Promise<DisParts> {
  // Dev only: the emulator is loaded on demand so production never imports it.
  const { createEmulator, DEV_CREDENTIALS } = await import('./emulator/emulator.ts');
  const credentials = DEV_CREDENTIALS[0];
  if (credentials === undefined) throw new InvariantError('the emulator has no dev credentials');
  const emulator = await createEmulator({
    streams: Object.values(config.streams)
      .filter((s) => s.disTarget === DEFAULT_DIS_TARGET)
      .map((s) => ({ name: s.disStream, partitions: s.partitions, type: s.type })),
  });
  const connection: DisConnectionOptions = {
    endpoint: emulator.url,
    projectId: emulator.projectId,
    auth: { type: 'aksk', credentials },
    now: edges.now,
    userAgent: userAgent(edges.build),
  };
  const client = createDisClient({ ...connection, events });
  return {
    name: DEFAULT_DIS_TARGET,
    client,
    connection,
    region: emulator.region,
    limits: DEFAULT_LIMITS,
    requestBoundMs: requestBoundMs(DEFAULT_TIMEOUTS),
    emulatorUrl: emulator.url,
    close: async () => {
      await client.close();
      await emulator.close();
    },
  };
}

function composeRemote(
  name: string,
  dis: DisTargetConfig,
  edges: DisEdges,
  events: DisClientEvents,
): DisParts {
  let auth: DisAuth;
  let tokens: TokenProvider | undefined;
  if (dis.auth.type === 'token') {
    // IAM tokens are scoped to one project: each target has a provider of its own.
    tokens = createIamTokenProvider({
      endpoint: dis.auth.iamEndpoint,
      user: { name: dis.auth.user, password: dis.auth.password, domain: dis.auth.domain },
      projectId: dis.projectId,
      now: edges.now,
    });
    auth = { type: 'token', tokens };
  } else {
    const { ak, sk, securityToken } = dis.auth;
    auth = { type: 'aksk', credentials: { ak, sk, securityToken } };
  }
  const timeouts = {
    connectMs: dis.connectTimeoutMs,
    headersMs: dis.requestTimeoutMs,
    bodyMs: dis.requestTimeoutMs,
  };
  const connection: DisConnectionOptions = {
    endpoint: dis.endpoint,
    projectId: dis.projectId,
    auth,
    now: edges.now,
    userAgent: userAgent(edges.build),
    timeouts,
  };
  const client = createDisClient({
    ...connection,
    limits: {
      maxRecordsPerRequest: dis.maxRecordsPerRequest,
      maxBytesPerRequest: dis.maxBytesPerRequest,
      maxConcurrentRequests: dis.maxConcurrentRequests,
      maxIsolationRequests: dis.maxIsolationRequests,
    },
    breaker: dis.breaker,
    events,
  });
  return {
    name,
    client,
    connection,
    region: dis.region,
    limits: dis,
    requestBoundMs: requestBoundMs(timeouts),
    close: async () => {
      await client.close();
      await tokens?.close();
    },
  };
}

/** One client per DIS target; every breaker gauge starts at closed so that each is scraped. */
export async function composeDisTargets(
  config: Config,
  edges: DisEdges,
  metrics: Metrics,
): Promise<DisTargets> {
  const several = Object.keys(config.disTargets).length > 0;
  const eventsOf = (name: string): DisClientEvents => {
    metrics.disBreakerState.set({ dis_target: name }, breakerValue('closed'));
    // With one target, its log lines stay as they were; with several, each says whose it is.
    const logger = several ? edges.logger.child({ dis_target: name }) : edges.logger;
    return disEvents(metrics, createDisFailureLog(logger, edges.now), name);
  };
  const main =
    config.dis.mode === 'embedded'
      ? await composeEmbedded(config, edges, eventsOf(DEFAULT_DIS_TARGET))
      : composeRemote(DEFAULT_DIS_TARGET, config.dis, edges, eventsOf(DEFAULT_DIS_TARGET));
  const byName = new Map<string, DisParts>([[main.name, main]]);
  for (const [name, target] of Object.entries(config.disTargets))
    byName.set(name, composeRemote(name, target, edges, eventsOf(name)));
  return {
    main,
    byName,
    close: async () => {
      await Promise.all([...byName.values()].map((parts) => parts.close()));
    },
  };
}

/** A stream's records go to the sink of its DIS target; a target it does not know is a bug. */
export function createRoutingSink(sinks: ReadonlyMap<string, RecordSink>): RecordSink {
  return {
    put: (request) => {
      const name = request.target.disTarget ?? DEFAULT_DIS_TARGET;
      const sink = sinks.get(name);
      if (sink === undefined)
        return Promise.reject(
          new InvariantError(`stream ${request.target.name}: no DIS target ${name}`),
        );
      return sink.put(request);
    },
  };
}

const SEVERITY: Readonly<Record<BreakerState, number>> = { closed: 0, 'half-open': 1, open: 2 };

/** The worst breaker of all targets (readiness's `dis_breaker`), and each one's. */
export function breakerStates(targets: DisTargets): {
  readonly worst: BreakerState;
  readonly each: Record<string, BreakerState>;
} {
  let worst: BreakerState = 'closed';
  const each: Record<string, BreakerState> = {};
  for (const [name, parts] of targets.byName) {
    const state = parts.client.breakerState();
    each[name] = state;
    if (SEVERITY[state] > SEVERITY[worst]) worst = state;
  }
  return { worst, each };
}

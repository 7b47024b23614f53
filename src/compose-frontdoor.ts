import { randomBytes } from 'node:crypto';
import type { TokenVerifier } from './auth/jwt-verifier.ts';
import type { Config } from './config/types.ts';
import { createDisManagementClient, type DisManagementClient } from './dis/management.ts';
import type { DisTargets } from './compose-dis.ts';
import { DEFAULT_DIS_TARGET } from './config/resolve.ts';
import { InvariantError } from './errors/coded-error.ts';
import { createSignedClients, type SignedClient } from './auth/signed-clients.ts';
import { DIS_RENDER } from './http/frontdoor/dis-answers.ts';
import type { FrontdoorRouteOptions } from './http/frontdoor/route.ts';
import { createStreamCatalog } from './ingest/stream-catalog.ts';
import type { ArrivalRefusals } from './http/middleware/rate-limit.ts';
import type { RecordsStream } from './http/routes/records.ts';
import { createAcceptRecords } from './ingest/accept-records.ts';
import type { HandOff } from './ingest/hand-off.ts';
import type { IdempotencyStore } from './idempotency/types.ts';
import type { Logger } from './observability/logger.ts';
import type { Metrics } from './observability/metrics.ts';
import type { RateLimiter } from './ratelimit/types.ts';

// The DIS-compatible front door's parts (src/http/frontdoor/): its clients from the config (and a
// dev client made at startup in dev mode), its own stream-management connection to each DIS target
// for DescribeStream, and the application layer rendered in DIS's words.

export interface FrontdoorDeps {
  readonly config: Config;
  /** Each stream's DescribeStream goes to its own DIS target, with that target's connection. */
  readonly dis: DisTargets;
  readonly streams: ReadonlyMap<string, RecordsStream>;
  readonly verifier: TokenVerifier;
  readonly rateLimiter: RateLimiter;
  readonly arrival: ArrivalRefusals;
  readonly handOff: HandOff;
  readonly idempotency: IdempotencyStore;
  readonly lateAnswerMs: number;
  readonly background: (task: Promise<void>) => void;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly now: () => number;
}

/** Printed in dev mode: what a DIS SDK needs to write through the gateway. */
export interface DevFrontdoorClient {
  readonly ak: string;
  readonly sk: string;
  readonly projectId: string;
  readonly region: string;
}

export interface FrontdoorParts {
  readonly route: FrontdoorRouteOptions;
  readonly devClient: DevFrontdoorClient | undefined;
  readonly close: () => Promise<void>;
}

function configuredClients(config: Config): SignedClient[] {
  return Object.entries(config.frontdoor.clients).map(([name, client]) => ({
    name,
    ak: client.ak,
    sk: client.sk,
    principal: { id: client.principal, scopes: new Set(client.scopes) },
  }));
}

export function composeFrontdoor(deps: FrontdoorDeps): FrontdoorParts | undefined {
  const { config, metrics, logger } = deps;
  if (!config.frontdoor.enabled) return undefined;
  const clients = configuredClients(config);
  const main = deps.dis.main;
  let devClient: DevFrontdoorClient | undefined;
  if (!config.production && clients.length === 0) {
    // Dev mode without clients: one made at startup, like the dev token, for every stream.
    const ak = `DEVGW${randomBytes(8).toString('hex').toUpperCase()}`.slice(0, 20);
    const sk = randomBytes(30).toString('base64url');
    clients.push({
      name: 'dev',
      ak,
      sk,
      principal: { id: 'dev', scopes: new Set(['dis:write:*']) },
    });
    devClient = { ak, sk, projectId: main.connection.projectId, region: main.region };
  }
  const managements = new Map<string, DisManagementClient>();
  for (const [name, target] of deps.dis.byName)
    managements.set(name, createDisManagementClient(target.connection));
  const targetOfStream = new Map<string, string>();
  for (const stream of deps.streams.values())
    targetOfStream.set(stream.disStream, stream.disTarget ?? DEFAULT_DIS_TARGET);
  const projectOfTarget = (name: string): string => {
    const target = deps.dis.byName.get(name);
    if (target === undefined) throw new InvariantError(`no DIS target ${name}`);
    return target.connection.projectId;
  };
  // Config keeps a DIS stream name to one target, so the name says whose connection describes it.
  const management: Pick<DisManagementClient, 'describeStream'> = {
    describeStream: (name, query, call) => {
      const client = managements.get(targetOfStream.get(name) ?? DEFAULT_DIS_TARGET);
      if (client === undefined)
        return Promise.reject(new InvariantError(`no DIS target for stream ${name}`));
      return client.describeStream(name, query, call);
    },
  };
  return {
    devClient,
    close: async () => {
      await Promise.all([...managements.values()].map((client) => client.close()));
    },
    route: {
      auth: {
        clients: createSignedClients({
          clients,
          region: main.region,
          now: deps.now,
          allowUnsignedPayload: config.frontdoor.allowUnsignedPayload,
        }),
        verifier: deps.verifier,
        onFailure: (reason, client) => {
          metrics.frontdoorAuthFailures.inc({ reason });
          logger.info({ reason, client }, 'DIS front door: request refused 401');
        },
      },
      projectIds: new Set([...deps.dis.byName.keys()].map(projectOfTarget)),
      projectOf: (stream) => projectOfTarget(stream.disTarget ?? DEFAULT_DIS_TARGET),
      streams: deps.streams,
      rateLimiter: deps.rateLimiter,
      arrival: deps.arrival,
      acceptRecords: createAcceptRecords({
        handOff: deps.handOff,
        idempotency: deps.idempotency,
        render: DIS_RENDER,
        lateAnswerMs: deps.lateAnswerMs,
        background: deps.background,
      }),
      catalog: createStreamCatalog({
        management,
        cacheMs: config.frontdoor.describeCacheMs,
        now: deps.now,
      }),
      limits: {
        bodyLimitBytes: config.frontdoor.bodyLimitBytes,
        maxRecordsPerRequest: config.frontdoor.maxRecordsPerRequest,
        maxRecordBytes: config.limits.maxRecordBytes,
      },
      waitMs: config.server.defaultWaitMs,
      onThrottled: (reason, records) => {
        metrics.frontdoorThrottled.inc({ reason }, records);
      },
    },
  };
}

import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseQuery } from '../dis/canonical.ts';
import type { StreamType } from '../dis/wire.ts';
import { ADMIN_PREFIX, handleAdmin } from './admin.ts';
import { authenticate } from './auth.ts';
import type { EmulatorCredential } from './auth.ts';
import type { EmulatorContext, IamUser, OperationInput } from './context.ts';
import { handleCreateStream } from './create-stream.ts';
import { handleDeleteStream } from './delete-stream.ts';
import { handleDescribeStream } from './describe-stream.ts';
import { EmulatorError, apigwError, disError, errorBody } from './errors.ts';
import { createFaults } from './faults.ts';
import type { FaultControls } from './faults.ts';
import { handleGetCursor } from './get-cursor.ts';
import { handleGetRecords } from './get-records.ts';
import { json, readBody, sendReply } from './http-io.ts';
import type { Reply } from './http-io.ts';
import { handleCreateToken } from './iam.ts';
import { handleListStreams } from './list-streams.ts';
import { handlePutRecords } from './put-records.ts';
import { matchRoute } from './router.ts';
import type { OperationName } from './router.ts';
import { createEmulatorStore } from './state.ts';
import type { EmulatorState } from './state.ts';
import { createTokenStore } from './tokens.ts';

export const DEFAULT_REGION = 'cn-north-4';
export const DEFAULT_PROJECT_ID = '0123456789abcdef0123456789abcdef';
export const DEV_CREDENTIALS: readonly EmulatorCredential[] = [
  { ak: 'EMULATORDEVAK0000001', sk: 'emulator-dev-secret-key-0000000000000000' },
];
export const DEV_IAM_USERS: readonly IamUser[] = [
  { domain: 'emulator-domain', name: 'emulator-user', password: 'emulator-password' },
];
/** The API gateway's cap on AK/SK-signed bodies (dis-api.md §2.3). */
export const MAX_BODY_BYTES = 12 * 1024 * 1024;

export interface EmulatorOptions {
  readonly host?: string;
  readonly port?: number;
  readonly region?: string;
  readonly projectId?: string;
  readonly credentials?: readonly EmulatorCredential[];
  readonly iamUsers?: readonly IamUser[];
  readonly tokenTtlMs?: number;
  readonly streams?: readonly { name: string; partitions: number; type?: StreamType }[];
  readonly clock?: () => number;
  readonly random?: () => number;
  readonly throttling?: boolean;
  readonly retention?: { readonly maxAgeMs?: number; readonly maxRecordsPerPartition?: number };
  readonly maxRecordsPerRequest?: number;
  readonly admin?: boolean;
}

export interface Emulator {
  readonly url: string;
  readonly server: Server;
  readonly state: EmulatorState;
  readonly faults: FaultControls;
  readonly region: string;
  readonly projectId: string;
  close(): Promise<void>;
}

type Handler = (ctx: EmulatorContext, input: OperationInput) => Reply;

const HANDLERS: Readonly<Record<OperationName, Handler>> = {
  CreateStream: handleCreateStream,
  ListStreams: handleListStreams,
  DescribeStream: handleDescribeStream,
  DeleteStream: handleDeleteStream,
  PutRecords: handlePutRecords,
  GetCursor: handleGetCursor,
  GetRecords: handleGetRecords,
  CreateToken: handleCreateToken,
};

function errorReply(error: EmulatorError, requestId: string): Reply {
  return json(error.status, errorBody(error, requestId));
}

async function respond(
  ctx: EmulatorContext,
  options: { admin: boolean; credentials: readonly EmulatorCredential[] },
  req: IncomingMessage,
): Promise<Reply> {
  const method = req.method ?? 'GET';
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const search = q === -1 ? '' : target.slice(q);
  const read = await readBody(req, MAX_BODY_BYTES);
  if (options.admin && (path === ADMIN_PREFIX || path.startsWith(`${ADMIN_PREFIX}/`))) {
    return handleAdmin(ctx, method, path, read.ok ? read.body : Buffer.alloc(0));
  }
  const route = matchRoute(method, path);
  if (route === undefined) {
    throw apigwError(
      404,
      'APIGW.0101',
      'The API does not exist or has not been published in the environment',
    );
  }
  const { stats } = ctx.store;
  stats.requests[route.operation] = (stats.requests[route.operation] ?? 0) + 1;
  const latency = ctx.faults.latencyMs();
  if (latency > 0) await sleep(latency);
  const injected = ctx.faults.takeFailure(route.operation);
  if (injected?.kind === 'raw') return json(injected.status, injected.body);
  if (injected?.kind === 'error') throw injected.error;
  if (!read.ok) throw apigwError(413, 'APIGW.0201', 'Request entity too large');

  const contentType = req.headers['content-type'];
  const input: OperationInput = {
    // Reversed so that the first value of a repeated key is the one kept.
    query: new Map([...parseQuery(search)].reverse()),
    contentType,
    body: read.body,
    ...(route.streamName === undefined ? {} : { streamName: route.streamName }),
  };
  if (route.operation !== 'CreateToken') {
    const verdict = authenticate(
      { method, path, search, headers: req.headers, body: read.body },
      {
        credentials: options.credentials,
        region: ctx.region,
        now: ctx.clock(),
        tokens: ctx.tokens,
      },
    );
    if (!verdict.ok) {
      stats.authFailures += 1;
      throw apigwError(401, 'APIGW.0301', verdict.message);
    }
    const headerProject = req.headers['x-project-id'];
    if (
      route.projectId !== ctx.projectId ||
      (headerProject !== undefined && headerProject !== ctx.projectId)
    ) {
      throw disError('DIS.4117', `[${route.projectId ?? ''}]`);
    }
  }
  return HANDLERS[route.operation](ctx, input);
}

/** A local DIS on node:http (design.md §8). Listens before it resolves. */
export async function createEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const clock = options.clock ?? Date.now;
  const random = options.random ?? Math.random;
  const maxAgeMs = options.retention?.maxAgeMs ?? 24 * 60 * 60 * 1000;
  const store = createEmulatorStore({
    clock,
    random,
    retention: {
      maxAgeMs,
      maxRecordsPerPartition: options.retention?.maxRecordsPerPartition ?? 100_000,
    },
  });
  const faults = createFaults();
  const ctx: EmulatorContext = {
    store,
    faults,
    tokens: createTokenStore(options.tokenTtlMs ?? 24 * 60 * 60 * 1000),
    clock,
    random,
    region: options.region ?? DEFAULT_REGION,
    projectId: options.projectId ?? DEFAULT_PROJECT_ID,
    iamUsers: options.iamUsers ?? DEV_IAM_USERS,
    throttling: options.throttling ?? true,
    maxRecordsPerRequest: options.maxRecordsPerRequest ?? 1000,
    maxAgeMs,
  };
  for (const spec of options.streams ?? []) {
    if (store.createStream(spec) === undefined) throw new Error(`duplicate stream ${spec.name}`);
  }
  const config = {
    admin: options.admin ?? true,
    credentials: options.credentials ?? DEV_CREDENTIALS,
  };

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Not from `random`: tests script that one for fault shares and must not see it consumed here.
    const requestId = randomUUID().replaceAll('-', '');
    let reply: Reply;
    try {
      reply = await respond(ctx, config, req);
    } catch (error) {
      reply = errorReply(
        error instanceof EmulatorError ? error : disError('DIS.5000', undefined, 500),
        requestId,
      );
    }
    sendReply(res, reply, requestId);
  }

  const server = createServer((req, res) => {
    void onRequest(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('emulator: no TCP address');
  const { port, family } = address satisfies AddressInfo;
  const host = family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${port}`,
    server,
    state: store.state,
    faults,
    region: ctx.region,
    projectId: ctx.projectId,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => {
          if (error === undefined) resolve();
          else reject(error);
        });
        server.closeAllConnections();
      }),
  };
}

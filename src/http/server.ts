import { createServer, type RequestListener, type Server } from 'node:http';
import type { Logger } from '../observability/logger.ts';
import type { ErrorCode } from '../errors/catalog.ts';
import { createClientErrorHandlers } from './client-error.ts';

// The HTTP server around the app, with its timeouts given at creation: Node checks them against
// each other there (a headers timeout above the request timeout throws) and starts its connection
// checker with the interval given then, not with the one set on the server later. Both timeouts
// count from a request's first byte (a new connection's accept) to the end of its headers or of
// its body; once the request has arrived neither applies, so they never cut an answer that waits
// on DIS. An expired request is found at the next check: within connectionsCheckIntervalMs after
// its bound. An idle keep-alive connection is under keepAliveTimeout only.

export interface ServerTimeouts {
  readonly keepAliveTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly connectionsCheckIntervalMs: number;
}

export interface GatewayServerOptions {
  readonly logger: Logger;
  /** Counts the answers the server gives itself (bad framing, timeouts, Expect). */
  readonly countClientError?: ((code: ErrorCode) => void) | undefined;
  readonly generateId?: (() => string) | undefined;
}

/** The gateway's HTTP server (not listening yet). */
export function createGatewayServer(
  app: RequestListener,
  timeouts: ServerTimeouts,
  options: GatewayServerOptions,
): Server {
  const server = createServer(
    {
      keepAliveTimeout: timeouts.keepAliveTimeoutMs,
      headersTimeout: timeouts.headersTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      connectionsCheckingInterval: timeouts.connectionsCheckIntervalMs,
    },
    app,
  );
  const handlers = createClientErrorHandlers({
    logger: options.logger,
    count: options.countClientError,
    generateId: options.generateId,
  });
  server.on('request', handlers.trackResponse);
  server.on('clientError', handlers.onClientError);
  server.on('checkExpectation', handlers.onCheckExpectation);
  return server;
}

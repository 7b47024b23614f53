import { createServer, type RequestListener, type Server } from 'node:http';

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

/** The gateway's HTTP server (not listening yet). */
export function createGatewayServer(app: RequestListener, timeouts: ServerTimeouts): Server {
  return createServer(
    {
      keepAliveTimeout: timeouts.keepAliveTimeoutMs,
      headersTimeout: timeouts.headersTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      connectionsCheckingInterval: timeouts.connectionsCheckIntervalMs,
    },
    app,
  );
}

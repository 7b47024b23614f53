import type { IncomingMessage, Server, ServerResponse } from 'node:http';

// Graceful drain behind a load balancer (design.md §7): readiness goes 503 at once, the instance keeps
// serving for `delayMs` while the load balancer notices, then stops accepting; answers during the drain
// carry `Connection: close` and idle keep-alive sockets are closed, in-flight requests finish (their DIS
// calls included), background work stops, clients close. A second signal or the deadline ends it with 1.

export interface DrainState {
  /** True from the first signal on: readiness answers 503 and answers close their connection. */
  readonly draining: () => boolean;
}

export interface ShutdownOptions {
  readonly server: Server;
  readonly delayMs: number;
  readonly timeoutMs: number;
  /** Stops background work and closes clients, after the server has stopped. */
  readonly closeGateway: () => Promise<void>;
  readonly log: (message: string) => void;
  readonly exit: (code: number) => void;
}

export interface Shutdown extends DrainState {
  /** Starts the drain; a second call exits 1 at once. */
  readonly begin: (reason: string, options?: { readonly skipDelay?: boolean }) => void;
}

export function createShutdown(options: ShutdownOptions): Shutdown {
  let draining = false;
  // Answers still being worked on when the drain starts must close their connection too: the
  // middleware only sees requests that arrive later.
  const open = new Set<ServerResponse>();
  options.server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    open.add(res);
    res.once('close', () => open.delete(res));
  });
  let finished = false;
  const finish = (code: number): void => {
    if (finished) return;
    finished = true;
    options.exit(code);
  };

  const drain = async (delayMs: number): Promise<void> => {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    // A socket that finishes its answer during the drain becomes idle; close those as they appear.
    const sweep = setInterval(() => {
      options.server.closeIdleConnections();
    }, 100);
    try {
      await new Promise<void>((resolve, reject) => {
        options.server.close((error) => {
          if (error === undefined) resolve();
          else reject(error);
        });
        options.server.closeIdleConnections();
      });
    } finally {
      clearInterval(sweep);
    }
    await options.closeGateway();
  };

  return {
    draining: () => draining,
    begin: (reason, beginOptions = {}) => {
      if (draining) {
        options.log(`${reason} again while draining: exiting now`);
        options.server.closeAllConnections();
        finish(1);
        return;
      }
      draining = true;
      for (const res of open) if (!res.headersSent) res.setHeader('Connection', 'close');
      const delayMs = beginOptions.skipDelay === true ? 0 : options.delayMs;
      options.log(`${reason}: draining (delay ${delayMs} ms, deadline ${options.timeoutMs} ms)`);
      const deadline = setTimeout(() => {
        options.log('drain deadline reached: closing the remaining connections');
        options.server.closeAllConnections();
        finish(1);
      }, options.timeoutMs);
      deadline.unref();
      drain(delayMs).then(
        () => {
          clearTimeout(deadline);
          options.log('drained');
          finish(0);
        },
        (error: unknown) => {
          options.log(`drain failed: ${error instanceof Error ? error.message : String(error)}`);
          finish(1);
        },
      );
    },
  };
}

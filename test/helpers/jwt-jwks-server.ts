import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { KeyObject } from 'node:crypto';

export interface JwksServer {
  /** Base URL; the key set is served at `${url}/jwks.json`, and every path is counted. */
  readonly url: string;
  readonly jwksUrl: string;
  /** Requests received so far, any path. */
  requests(): number;
  paths(): readonly string[];
  setKeys(keys: readonly Record<string, unknown>[]): void;
  /** Answer this status (with an empty body) instead of the key set. */
  setStatus(status: number): void;
  /** Hold answers until release() is called, to test concurrent callers. */
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

export function toJwk(
  publicKey: KeyObject,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { ...publicKey.export({ format: 'jwk' }), ...extra };
}

/** A local HTTP server standing in for an issuer's JWKS endpoint (and for jku/x5u targets). */
export async function startJwksServer(
  keys: readonly Record<string, unknown>[] = [],
): Promise<JwksServer> {
  const seen: string[] = [];
  let current = keys;
  let status = 200;
  let held: (() => void)[] | undefined;

  const answer = (req: IncomingMessage, res: ServerResponse): void => {
    if (status !== 200 || req.url !== '/jwks.json') {
      res.writeHead(status === 200 ? 404 : status).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
    res.end(JSON.stringify({ keys: current }));
  };

  const server = createServer((req, res) => {
    seen.push(req.url ?? '');
    if (held === undefined) answer(req, res);
    else
      held.push(() => {
        answer(req, res);
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no port');
  const url = `http://127.0.0.1:${address.port}`;
  return {
    url,
    jwksUrl: `${url}/jwks.json`,
    requests: () => seen.length,
    paths: () => seen,
    setKeys: (next) => {
      current = next;
    },
    setStatus: (next) => {
      status = next;
    },
    hold: () => {
      held = [];
    },
    release: () => {
      const waiting = held ?? [];
      held = undefined;
      for (const go of waiting) go();
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => {
        server.close((error) => {
          if (error) reject(error);
          else resolve();
        });
      });
    },
  };
}

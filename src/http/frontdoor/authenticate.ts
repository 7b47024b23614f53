import type { NextFunction, Request, Response } from 'express';
import type { TokenVerifier } from '../../auth/jwt-verifier.ts';
import type { SignedClients, SignedHeaders } from '../../auth/signed-clients.ts';
import { apiGatewayRefusal } from './dis-answers.ts';

// Who calls the front door: a client signing with an AK/SK the gateway issued (auth/signed-clients.ts),
// or a gateway JWT in `X-Auth-Token` (the SDKs' token mode). A refusal is DIS's API gateway's 401 with
// one body per mode, whatever the reason; the reason goes to the log and a metric, never a secret.

export interface FrontdoorAuthOptions {
  readonly clients: SignedClients;
  readonly verifier: TokenVerifier;
  readonly onFailure?: ((reason: string, client?: string) => void) | undefined;
}

declare module 'express-serve-static-core' {
  interface Locals {
    /** A signed request whose headers passed: the signature is checked once the body is read. */
    frontdoorSigned?: SignedHeaders;
  }
}

function refuse(req: Request, res: Response, via: 'aksk' | 'token'): void {
  // A body not read stays unread: the connection closes after the answer.
  if (!req.complete) res.setHeader('Connection', 'close');
  res.status(401).type('application/json').send(apiGatewayRefusal(via, res.locals.requestId));
}

/**
 * Before the body: a token is verified whole; a signature's headers (form, date window, AK, scope)
 * are checked, so an unknown AK or a stale date is refused without reading the body.
 */
export function authenticateHeaders(options: FrontdoorAuthOptions) {
  return async function frontdoorAuthHeaders(req: Request, res: Response, next: NextFunction) {
    const token = req.headers['x-auth-token'];
    if (req.headers.authorization === undefined && typeof token === 'string') {
      try {
        res.locals.principal = await options.verifier.authenticate([`Bearer ${token}`]);
      } catch {
        options.onFailure?.('token');
        refuse(req, res, 'token');
        return;
      }
      next();
      return;
    }
    const check = options.clients.checkHeaders(req.headers);
    if (!check.ok) {
      options.onFailure?.(check.reason, check.client);
      refuse(req, res, 'aksk');
      return;
    }
    res.locals.frontdoorSigned = check.signed;
    next();
  };
}

/** After the body: the signature over the bytes that arrived; then the client is the principal. */
export function verifySignature(options: FrontdoorAuthOptions) {
  return function frontdoorSignature(req: Request, res: Response, next: NextFunction) {
    const signed = res.locals.frontdoorSigned;
    if (signed === undefined) {
      next(); // a token request, already verified
      return;
    }
    // The request target as it arrived; an absolute-form one (`POST http://host/v2/…`) by its path.
    const target = req.originalUrl;
    const url = target.startsWith('/')
      ? target
      : URL.canParse(target)
        ? pathAndQuery(target)
        : target;
    const q = url.indexOf('?');
    const verdict = options.clients.verify(
      {
        method: req.method,
        path: q === -1 ? url : url.slice(0, q),
        search: q === -1 ? '' : url.slice(q),
        headers: req.headers,
        body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
      },
      signed,
    );
    if (!verdict.ok) {
      options.onFailure?.(verdict.reason, verdict.client);
      refuse(req, res, 'aksk');
      return;
    }
    res.locals.principal = verdict.principal;
    next();
  };
}

function pathAndQuery(target: string): string {
  const parsed = new URL(target);
  return `${parsed.pathname}${parsed.search}`;
}

import { InvariantError } from '../../errors/coded-error.ts';
import type { NextFunction, Request, Response } from 'express';
import type { TokenVerifier } from '../../auth/jwt-verifier.ts';
import type { Principal } from '../../auth/principal.ts';

declare module 'express-serve-static-core' {
  interface Locals {
    principal?: Principal;
  }
}

/** The bearer token's principal in `res.locals.principal`; a missing or bad token is the 401. */
export function authenticate(verifier: TokenVerifier) {
  return async function authenticateBearer(req: Request, res: Response, next: NextFunction) {
    res.locals.principal = await verifier.authenticate(req.headersDistinct.authorization);
    next();
  };
}

/** The principal an earlier `authenticate` found (a route wired without it is a bug: 500). */
export function principalOf(res: Response): Principal {
  const { principal } = res.locals;
  if (principal === undefined)
    throw new InvariantError('authenticate() did not run before this handler');
  return principal;
}

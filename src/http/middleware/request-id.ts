import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

// A caller's X-Request-Id is kept only when it is short and plain, so it can go into logs and
// headers without escaping; anything else is replaced.
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

declare module 'express-serve-static-core' {
  interface Locals {
    requestId: string;
  }
}

/** The caller's id when it is safe to repeat, else a new one. */
export function requestIdFor(given: string | string[] | undefined, generate: () => string): string {
  return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : generate();
}

export function requestId(generate: () => string = randomUUID) {
  return function assignRequestId(req: Request, res: Response, next: NextFunction): void {
    const id = requestIdFor(req.headers['x-request-id'], generate);
    res.locals.requestId = id;
    res.setHeader('X-Request-Id', id);
    next();
  };
}

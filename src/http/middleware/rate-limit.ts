import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../../errors/app-error.ts';
import type { RateLimitDecision, RateLimitInput, RateLimiter } from '../../ratelimit/types.ts';
import { retryAfterSeconds } from '../retry-after.ts';
import { fromFrameworkError } from './problem-handler.ts';

declare module 'express-serve-static-core' {
  interface Locals {
    /** Set once the request was charged: refused work after that is not charged again. */
    rateLimitCharged?: boolean;
  }
}

/** Refuses, before the body is read, what the arrival gate knows cannot pass (ratelimit/arrival-gate.ts). */
export interface ArrivalRefusals {
  refusal(principal: string, stream: string): RateLimitDecision | undefined;
}

function limited(res: Response, decision: RateLimitDecision): AppError {
  for (const [name, value] of Object.entries(decision.headers)) res.setHeader(name, value);
  return new AppError('ERR_RATE_LIMITED', {
    detail: 'Slow down: this request would exceed a rate limit',
    headers: { 'Retry-After': retryAfterSeconds(decision.retryAfterMs) },
  });
}

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * On arrival: a principal or stream whose buckets are closed to every request is answered 429 at
 * once. A body not yet read is not read: the connection closes after the answer instead.
 */
export function arrivalGate(
  gate: ArrivalRefusals,
  identify: (res: Response) => { readonly principal: string; readonly stream: string },
) {
  return function checkArrival(req: Request, res: Response, next: NextFunction) {
    const { principal, stream } = identify(res);
    const decision = gate.refusal(principal, stream);
    if (decision === undefined) {
      next();
      return;
    }
    if (!req.complete && hasBody(req)) res.setHeader('Connection', 'close');
    throw limited(res, decision);
  };
}

/**
 * Charges the request's cost (principal, stream, records, bytes: known once the body is parsed)
 * and sets the RateLimit headers on every answer; over the limit is the 429 with Retry-After.
 */
export function rateLimit(limiter: RateLimiter, cost: (res: Response) => RateLimitInput) {
  return async function checkRateLimit(_req: Request, res: Response, next: NextFunction) {
    const decision = await limiter.check(cost(res));
    res.locals.rateLimitCharged = true;
    for (const [name, value] of Object.entries(decision.headers)) res.setHeader(name, value);
    if (!decision.allowed) throw limited(res, decision);
    next();
  };
}

/**
 * An error handler after the body is read: a request refused as malformed, too large or invalid
 * still costs its principal one request and the bytes the gateway read (not the stream, whose DIS
 * capacity it never used), so a caller over its limit is told 429
 * rather than what was wrong with its body, and its refused requests count. Server-side failures
 * (5xx) and what was already charged are passed on as they are.
 */
export function chargeRefused(
  limiter: RateLimiter,
  identify: (res: Response) => { readonly principal: string; readonly stream: string } | undefined,
  /** The body limit: a declared Content-Length beyond it was never read. */
  maxBytes: number,
) {
  return async function chargeRefusedRequest(
    error: unknown,
    req: Request,
    res: Response,
    next: NextFunction,
  ) {
    const mapped = fromFrameworkError(error);
    const who = identify(res);
    if (
      res.locals.rateLimitCharged === true ||
      who === undefined ||
      !(mapped instanceof AppError) ||
      mapped.status < 400 ||
      mapped.status >= 500 ||
      mapped.status === 429
    ) {
      next(error);
      return;
    }
    res.locals.rateLimitCharged = true;
    const declared = Number(req.headers['content-length'] ?? 0) || 0;
    const bytes = Buffer.isBuffer(req.body) ? req.body.length : Math.min(maxBytes, declared);
    let decision: RateLimitDecision;
    try {
      decision = await limiter.check({ ...who, records: 0, bytes, principalOnly: true });
    } catch {
      // Limits cannot be checked (fail-closed without Redis): the caller hears what was wrong.
      next(error);
      return;
    }
    for (const [name, value] of Object.entries(decision.headers)) res.setHeader(name, value);
    next(decision.allowed ? error : limited(res, decision));
  };
}

import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../../errors/app-error.ts';
import type { RateLimitInput, RateLimiter } from '../../ratelimit/types.ts';
import { retryAfterSeconds } from '../retry-after.ts';

/**
 * Charges the request's cost (principal, stream, records, bytes: known once the body is parsed)
 * and sets the RateLimit headers on every answer; over the limit is the 429 with Retry-After.
 */
export function rateLimit(limiter: RateLimiter, cost: (res: Response) => RateLimitInput) {
  return async function checkRateLimit(_req: Request, res: Response, next: NextFunction) {
    const decision = await limiter.check(cost(res));
    for (const [name, value] of Object.entries(decision.headers)) res.setHeader(name, value);
    if (!decision.allowed) {
      throw new AppError('ERR_RATE_LIMITED', {
        detail: 'Slow down: this request would exceed a rate limit',
        headers: { 'Retry-After': retryAfterSeconds(decision.retryAfterMs) },
      });
    }
    next();
  };
}

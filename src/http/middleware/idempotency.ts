import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../../errors/app-error.ts';
import { isValidIdempotencyKey } from '../../idempotency/key.ts';

declare module 'express-serve-static-core' {
  interface Locals {
    /** The request's Idempotency-Key and what identifies its content (absent without a key). */
    idempotency?: { readonly key: string; readonly fingerprint: string };
  }
}

/**
 * Reads `Idempotency-Key` (one, 1–255 printable ASCII) after the body: the fingerprint covers the
 * content type and the exact bytes, so a reuse with another body is told apart from a retry.
 */
export function idempotencyKey() {
  return function readIdempotencyKey(req: Request, res: Response, next: NextFunction) {
    const keys = req.headersDistinct['idempotency-key'];
    if (keys === undefined) {
      next();
      return;
    }
    const key = keys[0];
    if (keys.length > 1) {
      throw new AppError('ERR_IDEMPOTENCY_KEY_INVALID', { detail: 'Send one Idempotency-Key' });
    }
    if (key === undefined || !isValidIdempotencyKey(key)) {
      throw new AppError('ERR_IDEMPOTENCY_KEY_INVALID', {
        detail: 'Idempotency-Key must be 1 to 255 printable ASCII characters',
      });
    }
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    res.locals.idempotency = {
      key,
      fingerprint: createHash('sha256')
        .update(req.headers['content-type'] ?? '')
        .update('\n')
        .update(body)
        .digest('hex'),
    };
    next();
  };
}

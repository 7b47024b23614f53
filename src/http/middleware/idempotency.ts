import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../../errors/app-error.ts';
import { isValidIdempotencyKey } from '../../idempotency/key.ts';

declare module 'express-serve-static-core' {
  interface Locals {
    /** The request's Idempotency-Key, checked before the body is read (absent without a key). */
    idempotencyKey?: string;
    /** The key and what identifies the request's content, once the body is read. */
    idempotency?: { readonly key: string; readonly fingerprint: string };
  }
}

/** Reads `Idempotency-Key` (one, 1–255 printable ASCII) before the body is read. */
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
    res.locals.idempotencyKey = key;
    next();
  };
}

/**
 * After the body: the fingerprint covers the content type and the exact bytes, so a reuse of the
 * key with another body is told apart from a retry.
 */
export function idempotencyFingerprint() {
  return function fingerprintRequest(req: Request, res: Response, next: NextFunction) {
    const key = res.locals.idempotencyKey;
    if (key !== undefined) {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      res.locals.idempotency = {
        key,
        fingerprint: createHash('sha256')
          .update(req.headers['content-type'] ?? '')
          .update('\n')
          .update(body)
          .digest('hex'),
      };
    }
    next();
  };
}

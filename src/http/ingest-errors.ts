import { DisCircuitOpenError } from '../dis/errors.ts';
import { AppError } from '../errors/app-error.ts';
import { BatcherOverloadedError } from '../ingest/batcher.ts';

/** Errors from ingest that mean nothing was sent to DIS: 503 with Retry-After; undefined otherwise. */
export function ingestUnavailable(error: unknown): AppError | undefined {
  if (error instanceof DisCircuitOpenError) {
    return new AppError('ERR_DIS_UNAVAILABLE', {
      detail: 'DIS calls are suspended; nothing was written',
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))) },
      cause: error,
    });
  }
  if (error instanceof BatcherOverloadedError) {
    return new AppError('ERR_DIS_UNAVAILABLE', {
      detail: 'Too many records are waiting for DIS; nothing was written',
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))) },
      cause: error,
    });
  }
  return undefined;
}

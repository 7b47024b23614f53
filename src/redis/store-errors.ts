import { AppError } from '../errors/app-error.ts';
import { ReplicationBacklogError, ReplicationTimeoutError } from './replication.ts';

// How a failed Redis write reaches a caller, for the stores that acknowledge writes (spool,
// idempotency): a 503 with a stable code, and whether the write may have been applied anyway.

/** The 503 a caller gets; `what` names what was written ("The records", "This Idempotency-Key"). */
export function toStoreError(error: unknown, what: string): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof ReplicationTimeoutError) {
    return new AppError('ERR_REDIS_REPLICATION_TIMEOUT', {
      detail: `${what}: not confirmed on a Redis replica in time; retry later`,
      cause: error,
      headers: { 'Retry-After': '1' },
    });
  }
  if (error instanceof ReplicationBacklogError) {
    return new AppError('ERR_REDIS_UNAVAILABLE', {
      detail: `${what}: not stored, too many writes are waiting for Redis replicas; retry later`,
      cause: error,
      headers: { 'Retry-After': '1' },
    });
  }
  return new AppError('ERR_REDIS_UNAVAILABLE', {
    detail: `${what}: Redis is unavailable right now; retry later`,
    cause: error,
    headers: { 'Retry-After': '1' },
  });
}

/**
 * False only when the write certainly did not reach Redis: refused before sending (the
 * replication backlog, or ioredis with no connection and no offline queue). A timeout, a lost
 * connection or an unconfirmed write may have been applied.
 */
export function mayHaveBeenApplied(error: unknown): boolean {
  if (error instanceof ReplicationBacklogError) return false;
  return !(error instanceof Error && error.message.includes('enableOfflineQueue options is false'));
}

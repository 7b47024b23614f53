/** The answer to replay: what the route sent after DIS answered. */
export interface StoredAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Proof of holding a key's lock; complete/release act only while it is still the holder's. */
export interface IdempotencyHandle {
  readonly key: string;
  readonly owner: string;
  readonly fingerprint: string;
}

export type BeginResult =
  | { readonly kind: 'started'; readonly handle: IdempotencyHandle }
  | { readonly kind: 'replay'; readonly answer: StoredAnswer }
  | { readonly kind: 'in-progress'; readonly retryAfterS: number }
  | { readonly kind: 'mismatch' };

export interface BeginInput {
  readonly principal: string;
  /** Logical stream name. */
  readonly stream: string;
  /** The Idempotency-Key value (validated by the caller with isValidIdempotencyKey). */
  readonly key: string;
  /** sha256 of method + content type + body, computed by the caller. */
  readonly fingerprint: string;
  /** How long the first request may hold the key before a retry may take over. */
  readonly lockTtlMs: number;
}

export interface IdempotencyStore {
  begin(input: BeginInput): Promise<BeginResult>;
  /** Stores the verdict (kept for the store's ttlMs) once DIS has answered. */
  complete(handle: IdempotencyHandle, answer: StoredAnswer): Promise<void>;
  /** The request ended with nothing worth replaying (e.g. 503 before any write): let a retry run. */
  release(handle: IdempotencyHandle): Promise<void>;
}

/**
 * A 409's Retry-After. The lock TTL bounds how long the first request may take, it does not
 * estimate it; most finish well within a second, so retrying after one is the useful hint.
 */
export const IN_PROGRESS_RETRY_AFTER_S = 1;

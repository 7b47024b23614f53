import { AppError } from '../errors/app-error.ts';

// RFC 6750 §3 challenges. Every token failure carries the same detail on purpose: telling a caller
// which check failed (expired? wrong key? wrong audience?) helps whoever is probing with forged tokens
// more than it helps an honest client, whose operator can read the reason in the server's logs.

export const AUTH_REALM = 'dis-gateway';

const INVALID_TOKEN_DETAIL = 'The request needs a valid bearer token.';

/**
 * Which check a token failed: internal (counted in `gateway_auth_failures_total{reason}`), never
 * sent to the caller.
 */
export type AuthFailureReason =
  /** No Authorization header, or an empty one. */
  | 'missing'
  /** Several Authorization headers. */
  | 'invalid_request'
  /** Not one bearer token, not three base64url segments, or a header that does not decode. */
  | 'malformed'
  | 'too_large'
  | 'algorithm_not_allowed'
  | 'crit_header'
  /** No configured or published key fits the token's kid and algorithm. */
  | 'no_key'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  /** Older than `max_token_age_s`, or an iat in the future. */
  | 'too_old'
  | 'wrong_issuer'
  | 'wrong_audience'
  /** exp, iss, aud, principal or scope claim missing or mistyped. */
  | 'claims';

/** A refused token: the AppError to answer with, and why (for metrics and logs only). */
export class AuthError extends AppError {
  readonly reason: AuthFailureReason;

  constructor(reason: AuthFailureReason, app: AppError) {
    super(app.code, { detail: app.detail, headers: app.headers, cause: app.cause });
    this.name = 'AuthError';
    this.reason = reason;
  }
}

/** No credentials at all: the challenge carries no error code (RFC 6750 §3.1). */
export function missingTokenError(): AuthError {
  return new AuthError(
    'missing',
    new AppError('ERR_AUTH_INVALID_TOKEN', {
      detail: INVALID_TOKEN_DETAIL,
      headers: { 'WWW-Authenticate': `Bearer realm="${AUTH_REALM}"` },
    }),
  );
}

/** `cause` is for the server's logs only; it never reaches the caller. */
export function invalidTokenError(reason: AuthFailureReason, cause?: unknown): AuthError {
  return new AuthError(
    reason,
    new AppError('ERR_AUTH_INVALID_TOKEN', {
      detail: INVALID_TOKEN_DETAIL,
      cause,
      headers: { 'WWW-Authenticate': `Bearer realm="${AUTH_REALM}", error="invalid_token"` },
    }),
  );
}

export function invalidRequestError(detail: string): AuthError {
  return new AuthError(
    'invalid_request',
    new AppError('ERR_AUTH_INVALID_REQUEST', {
      detail,
      headers: { 'WWW-Authenticate': 'Bearer error="invalid_request"' },
    }),
  );
}

// RFC 6749 §3.3 scope-token characters: anything printable but space, `"` and `\`, so the scope can
// sit in a quoted-string without escaping.
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

export function insufficientScopeError(scope: string): AppError {
  const scopeParam = SCOPE_TOKEN.test(scope) ? `, scope="${scope}"` : '';
  return new AppError('ERR_AUTH_INSUFFICIENT_SCOPE', {
    detail: `The token does not grant the scope ${JSON.stringify(scope)} this request needs.`,
    headers: {
      'WWW-Authenticate': `Bearer realm="${AUTH_REALM}", error="insufficient_scope"${scopeParam}`,
    },
  });
}

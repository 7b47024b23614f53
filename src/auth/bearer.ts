import { invalidRequestError, invalidTokenError, missingTokenError } from './auth-errors.ts';

// RFC 6750 §2.1: `Bearer 1*SP b64token` (token68). The scheme is case-insensitive (RFC 9110 §11.1);
// the token must be the whole rest of the value, so `Bearer a b` and `Bearer a, Basic b` fail here.
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

export const DEFAULT_MAX_TOKEN_BYTES = 8192;

/**
 * The bearer token from every `Authorization` value that arrived (Express: `req.headersDistinct`).
 * Throws the AppError to answer with. Runs before any decoding, so an oversize token costs nothing.
 */
export function extractBearerToken(
  authorization: readonly string[] | undefined,
  maxTokenBytes: number,
): string {
  if (authorization === undefined || authorization.length === 0) throw missingTokenError();
  if (authorization.length > 1) {
    throw invalidRequestError('Send exactly one Authorization header.');
  }
  const value = authorization[0] ?? '';
  if (value === '') throw missingTokenError();
  // Cheap bound first so the pattern never scans a huge value; the exact bound follows.
  if (value.length > maxTokenBytes + 64) throw invalidTokenError('too_large');
  const token = BEARER.exec(value)?.[1];
  if (token === undefined) throw invalidTokenError('malformed', 'not a single bearer token');
  // token68 is ASCII, so characters are bytes.
  if (token.length > maxTokenBytes) throw invalidTokenError('too_large');
  return token;
}

// Every error a caller can see: a stable code, its HTTP status and title. The problem `type` is a URN
// made from the code so it stays stable and needs no hosted page.

export const ERROR_CATALOG = {
  ERR_HTTP_BAD_REQUEST: { status: 400, title: 'Bad request' },
  ERR_HTTP_NOT_FOUND: { status: 404, title: 'Not found' },
  ERR_HTTP_METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  ERR_HTTP_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  ERR_HTTP_BODY_TOO_LARGE: { status: 413, title: 'Request body too large' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, title: 'The request did not arrive in time' },
  ERR_HTTP_EXPECTATION_FAILED: { status: 417, title: 'Unsupported Expect' },
  ERR_HTTP_HEADERS_TOO_LARGE: { status: 431, title: 'Request header fields too large' },
  ERR_HTTP_INVALID_JSON: { status: 400, title: 'Malformed JSON' },
  ERR_HTTP_INVALID_UTF8: { status: 400, title: 'Body is not valid UTF-8' },
  ERR_HTTP_BAD_ENCODING: { status: 400, title: 'Body does not decode per its Content-Encoding' },
  ERR_VALIDATION: { status: 400, title: 'Invalid records' },
  ERR_VALIDATION_TOO_LARGE: { status: 413, title: 'Too many records or a record too large' },
  ERR_AUTH_INVALID_REQUEST: { status: 400, title: 'Malformed Authorization header' },
  ERR_AUTH_INVALID_TOKEN: { status: 401, title: 'Missing or invalid bearer token' },
  ERR_AUTH_INSUFFICIENT_SCOPE: { status: 403, title: 'Token lacks the scope for this stream' },
  ERR_STREAM_NOT_FOUND: { status: 404, title: 'Unknown stream' },
  ERR_RATE_LIMITED: { status: 429, title: 'Rate limit exceeded' },
  ERR_IDEMPOTENCY_KEY_INVALID: { status: 400, title: 'Invalid Idempotency-Key' },
  ERR_IDEMPOTENCY_IN_PROGRESS: {
    status: 409,
    title: 'A request with this Idempotency-Key is in progress',
  },
  ERR_IDEMPOTENCY_MISMATCH: { status: 422, title: 'Idempotency-Key reused with another body' },
  ERR_WEBHOOK_UNKNOWN_SOURCE: { status: 404, title: 'Unknown webhook source' },
  ERR_WEBHOOK_UNAUTHORIZED: { status: 401, title: 'Webhook signature not valid' },
  ERR_WEBHOOK_TOO_LARGE: { status: 413, title: 'Webhook body too large' },
  ERR_WEBHOOK_IN_PROGRESS: {
    status: 409,
    title: 'An earlier attempt of this delivery is still being accepted',
  },
  ERR_RECEIPT_NOT_FOUND: { status: 404, title: 'Unknown or expired receipt' },
  ERR_SPOOL_FULL: { status: 503, title: 'The spool is full' },
  ERR_DIS_BAD_GATEWAY: { status: 502, title: 'DIS answered in a way the gateway cannot use' },
  ERR_DIS_UNAVAILABLE: { status: 503, title: 'DIS is unavailable' },
  ERR_DIS_TIMEOUT: { status: 504, title: 'DIS did not answer in time' },
  ERR_REDIS_UNAVAILABLE: { status: 503, title: 'A required store is unavailable' },
  ERR_REDIS_REPLICATION_TIMEOUT: {
    status: 503,
    title: 'The write was not confirmed by enough Redis replicas in time',
  },
  ERR_SHUTTING_DOWN: { status: 503, title: 'The gateway is shutting down' },
  ERR_INTERNAL: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { readonly status: number; readonly title: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export function problemType(code: ErrorCode): string {
  return `urn:dis-gateway:problem:${code.slice(4).toLowerCase().replaceAll('_', '-')}`;
}

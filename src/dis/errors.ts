import { CodedError } from '../errors/coded-error.ts';

// Typed failures at the DIS edge. Each has a stable `code`; the original error stays in `cause`.

export type DisErrorCode =
  /** DIS (or the API gateway in front of it) answered with an error status. */
  | 'ERR_DIS_HTTP'
  /** No connection could be made: nothing was sent. */
  | 'ERR_DIS_UNREACHABLE'
  /** The connection broke after the request went out: it may have been processed. */
  | 'ERR_DIS_CONNECTION_LOST'
  /** No answer in time after the request went out: it may have been processed. */
  | 'ERR_DIS_TIMEOUT'
  /** The answer could not be understood. */
  | 'ERR_DIS_BAD_RESPONSE'
  /** The circuit breaker is open: DIS was not called. */
  | 'ERR_DIS_CIRCUIT_OPEN'
  /** IAM refused or failed to issue a token. */
  | 'ERR_DIS_IAM';

export interface DisErrorOptions {
  readonly cause?: unknown;
  /** True when the request may have reached DIS and been applied although no answer arrived. */
  readonly possiblyProcessed?: boolean;
}

export class DisError extends CodedError<DisErrorCode> {
  readonly possiblyProcessed: boolean;

  constructor(code: DisErrorCode, message: string, options: DisErrorOptions = {}) {
    super(code, message, { cause: options.cause });
    this.name = 'DisError';
    this.possiblyProcessed = options.possiblyProcessed ?? false;
  }
}

export interface DisHttpErrorDetails {
  readonly status: number;
  /** `errorCode` (DIS shape) or `error_code` (API gateway shape), when the body had one. */
  readonly disCode?: string | undefined;
  readonly disMessage?: string | undefined;
  /** From a `Retry-After` header, in milliseconds. */
  readonly retryAfterMs?: number | undefined;
  /** The API gateway's `X-Request-Id`: what Huawei support asks for. */
  readonly requestId?: string | undefined;
}

export class DisHttpError extends DisError {
  readonly status: number;
  readonly disCode: string | undefined;
  readonly disMessage: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly requestId: string | undefined;

  constructor(details: DisHttpErrorDetails, options: DisErrorOptions = {}) {
    super(
      'ERR_DIS_HTTP',
      `DIS answered ${details.status}${details.disCode === undefined ? '' : ` ${details.disCode}`}${
        details.disMessage === undefined ? '' : `: ${details.disMessage}`
      }`,
      options,
    );
    this.name = 'DisHttpError';
    this.status = details.status;
    this.disCode = details.disCode;
    this.disMessage = details.disMessage;
    this.retryAfterMs = details.retryAfterMs;
    this.requestId = details.requestId;
  }
}

export class DisCircuitOpenError extends DisError {
  /** When the breaker will let a probe through again. */
  readonly retryAfterMs: number;

  constructor(retryAfterMs: number) {
    super('ERR_DIS_CIRCUIT_OPEN', 'DIS calls are suspended after repeated authentication failures');
    this.name = 'DisCircuitOpenError';
    this.retryAfterMs = retryAfterMs;
  }
}

/** The code a caller sees for a failure: DIS's own when it gave one, else ours. */
export function errorCodeOf(error: DisError): string {
  return error instanceof DisHttpError && error.disCode !== undefined ? error.disCode : error.code;
}

/** A failed request as plain data: what the retry decision and a verdict need to know of it. */
export interface RequestFailure {
  /** Our class of the failure (`ERR_DIS_HTTP`, `ERR_DIS_TIMEOUT`, …). */
  readonly kind: DisErrorCode;
  /** What a verdict reports: DIS's own code when it gave one, else ours. */
  readonly code: string;
  readonly message: string;
  /** The HTTP status, when DIS (or the API gateway in front of it) answered. */
  readonly status?: number;
  /** From a `Retry-After` header. */
  readonly retryAfterMs?: number;
  /** The request may have reached DIS and been applied although no answer arrived. */
  readonly possiblyProcessed: boolean;
}

export function toRequestFailure(error: DisError): RequestFailure {
  const failure = {
    kind: error.code,
    code: errorCodeOf(error),
    message: error.message,
    possiblyProcessed: error.possiblyProcessed,
  };
  if (!(error instanceof DisHttpError)) return failure;
  const http = { ...failure, message: error.disMessage ?? error.message, status: error.status };
  return error.retryAfterMs === undefined ? http : { ...http, retryAfterMs: error.retryAfterMs };
}

import { ERROR_CATALOG, problemType, type ErrorCode } from './catalog.ts';
import { CodedError } from './coded-error.ts';
import type { ProblemBody } from './problem-body.ts';

export interface AppErrorOptions {
  /** Human-readable, safe to show the caller; never a secret, token or upstream message verbatim. */
  readonly detail?: string | undefined;
  readonly cause?: unknown;
  /** Sent with the answer, e.g. `WWW-Authenticate`, `Retry-After`, `Allow`. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Extra members of the problem body, e.g. `errors: [{pointer, detail}]`. */
  readonly extensions?: Readonly<Record<string, unknown>> | undefined;
}

export class AppError extends CodedError<ErrorCode> {
  readonly status: number;
  readonly detail: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly extensions: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, options: AppErrorOptions = {}) {
    super(code, options.detail ?? ERROR_CATALOG[code].title, { cause: options.cause });
    this.name = 'AppError';
    this.status = ERROR_CATALOG[code].status;
    this.detail = options.detail;
    this.headers = options.headers ?? {};
    this.extensions = options.extensions ?? {};
  }
}

export interface Problem {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: ProblemBody;
}

/**
 * RFC 9457 problem details. Anything that is not an AppError becomes a generic 500: its message may
 * carry internals, so it is never shown.
 */
export function toProblem(error: unknown, instance?: string): Problem {
  const app = error instanceof AppError ? error : new AppError('ERR_INTERNAL');
  const entry = ERROR_CATALOG[app.code];
  return {
    status: app.status,
    headers: app.headers,
    body: {
      ...app.extensions,
      type: problemType(app.code),
      title: entry.title,
      status: app.status,
      code: app.code,
      ...(app.detail === undefined ? {} : { detail: app.detail }),
      ...(instance === undefined ? {} : { instance }),
    },
  };
}

import type { NextFunction, Request, Response } from 'express';
import { AppError, toProblem } from '../../errors/app-error.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function sendProblem(res: Response, error: unknown): void {
  const problem = toProblem(error);
  res.status(problem.status);
  for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
  res.type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem.body));
}

/** body-parser and http-errors carry `type`/`status`; turn the ones a caller can cause into codes. */
export function fromFrameworkError(error: unknown): unknown {
  if (error instanceof AppError || typeof error !== 'object' || error === null) return error;
  const type = 'type' in error ? error.type : undefined;
  if (type === 'entity.too.large') {
    return new AppError('ERR_HTTP_BODY_TOO_LARGE', { detail: 'The body is over the size limit' });
  }
  if (type === 'request.aborted' || type === 'request.size.invalid') {
    return new AppError('ERR_HTTP_BAD_REQUEST', { detail: 'The body did not arrive complete' });
  }
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new AppError('ERR_HTTP_UNSUPPORTED_MEDIA_TYPE', { detail: 'Unsupported body encoding' });
  }
  // zlib's errors (Z_DATA_ERROR, brotli's codes) carry a numeric errno and no `type`: the caller's
  // bytes did not decompress, a client error rather than a 500.
  if ('errno' in error && typeof error.errno === 'number' && 'code' in error) {
    return new AppError('ERR_HTTP_BAD_ENCODING', {
      detail: 'The body does not decompress per its Content-Encoding',
    });
  }
  return error;
}

export function notFound() {
  return function routeNotFound(_req: Request, _res: Response, next: NextFunction): void {
    next(new AppError('ERR_HTTP_NOT_FOUND'));
  };
}

export interface ProblemHandlerOptions {
  /** Called for errors that become a 500, so they are logged; never shown to the caller. */
  readonly onUnexpected?: ((error: unknown, req: Request) => void) | undefined;
}

export function problemHandler(options: ProblemHandlerOptions = {}) {
  return function handleProblem(
    error: unknown,
    req: Request,
    res: Response,
    next: NextFunction,
  ): void {
    if (res.headersSent) {
      next(error);
      return;
    }
    const mapped = fromFrameworkError(error);
    if (!(mapped instanceof AppError)) options.onUnexpected?.(mapped, req);
    sendProblem(res, mapped);
  };
}

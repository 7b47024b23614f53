import type { NextFunction, Request, Response } from 'express';
import { startTrace, type TraceContext } from '../../observability/trace-context.ts';

declare module 'express-serve-static-core' {
  interface Locals {
    /** The request's span: the caller's trace when it sent a valid `traceparent`, else a new one. */
    trace?: TraceContext;
  }
}

/** W3C Trace Context: read `traceparent`/`tracestate`, start this request's span. */
export function traceContext() {
  return function startRequestSpan(req: Request, res: Response, next: NextFunction): void {
    res.locals.trace = startTrace(req.headersDistinct.traceparent, req.headersDistinct.tracestate);
    next();
  };
}

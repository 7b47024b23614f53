import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../../observability/logger.ts';
import { cachedChildren, type Metrics } from '../../observability/metrics.ts';
import { HEALTH_PATHS } from '../routes/health.ts';

declare module 'express-serve-static-core' {
  interface Locals {
    /** The route template for logs and metric labels, when a route matched. */
    routeTemplate?: string;
  }
}

function routeOf(req: Request, res: Response): string {
  if (res.locals.routeTemplate !== undefined) return res.locals.routeTemplate;
  const route: unknown = req.route;
  if (
    typeof route === 'object' &&
    route !== null &&
    'path' in route &&
    typeof route.path === 'string'
  ) {
    return route.path;
  }
  return 'unmatched';
}

/**
 * One line per request when it finishes, and the HTTP metrics. Only the path is logged, never the
 * query string or headers (tokens, signatures, cookies); health and metrics scrapes log at debug,
 * other 5xx answers at error, the rest at info.
 */
export function accessLog(
  logger: Logger,
  metrics: Metrics,
  now: () => number = performance.now.bind(performance),
) {
  const requests = cachedChildren((route, method, status) =>
    metrics.httpRequests.labels({ route, method, status }),
  );
  const durations = cachedChildren((route, method, status) =>
    metrics.httpDuration.labels({ route, method, status }),
  );
  return function logRequest(req: Request, res: Response, next: NextFunction): void {
    const started = now();
    res.once('finish', () => {
      const seconds = (now() - started) / 1000;
      const route = routeOf(req, res);
      const status = String(res.statusCode);
      requests(route, req.method, status).inc();
      durations(route, req.method, status).observe(seconds);
      const line = {
        req_id: res.locals.requestId,
        trace_id: res.locals.trace?.traceId,
        span_id: res.locals.trace?.spanId,
        method: req.method,
        path: req.path,
        route,
        status: res.statusCode,
        duration_ms: Math.round(seconds * 10_000) / 10,
        principal: res.locals.principal?.id,
        stream: res.locals.stream?.name ?? res.locals.webhookSource?.stream.name,
        webhook_source: res.locals.webhookSource?.name,
        records: res.locals.recordCounts?.received,
        records_failed: res.locals.recordCounts?.failed,
        remote: req.ip,
      };
      // A 5xx is the gateway's or a dependency's failure: an error line, so it pages; a 4xx is the
      // caller's, so it is information. Probes stay at debug (a 503 from /readyz is its answer).
      if (HEALTH_PATHS.has(req.path)) logger.debug(line, 'request');
      else if (res.statusCode >= 500) logger.error(line, 'request');
      else logger.info(line, 'request');
    });
    next();
  };
}

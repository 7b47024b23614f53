import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { AppError } from '../errors/app-error.ts';
import { InvariantError } from '../errors/coded-error.ts';
import { methodNotAllowed } from './router.ts';
import {
  notFound,
  problemHandler,
  type ProblemHandlerOptions,
} from './middleware/problem-handler.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { accessLog } from './middleware/access-log.ts';
import { traceContext } from './middleware/trace-context.ts';
import { requestId } from './middleware/request-id.ts';
import { securityHeaders } from './middleware/security-headers.ts';
import { healthRoutes, type HealthOptions } from './routes/health.ts';
import { OPENAPI_DOCUMENT } from './openapi.ts';
import { receiptsRoute, type ReceiptsRouteOptions } from './routes/receipts.ts';
import { frontdoorRoute, type FrontdoorRouteOptions } from './frontdoor/route.ts';
import { recordsRoute, type RecordsRouteOptions } from './routes/records.ts';
import { webhooksRoute, type WebhooksRouteOptions } from './routes/webhooks.ts';

export interface AppDeps {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly health: Omit<HealthOptions, 'registry' | 'draining' | 'reportReady'>;
  /** From the first shutdown signal on, answers carry `Connection: close`. */
  readonly draining?: () => boolean;
  readonly records: RecordsRouteOptions;
  readonly webhooks: WebhooksRouteOptions;
  readonly receipts: ReceiptsRouteOptions;
  /** The DIS-compatible front door under /v2/ (absent: frontdoor.enabled is false). */
  readonly frontdoor?: FrontdoorRouteOptions | undefined;
  /** Hop count or list of trusted proxy addresses/CIDRs; never `true` (design.md §7). */
  readonly trustProxy: number | readonly string[];
  readonly onUnexpectedError?: ProblemHandlerOptions['onUnexpected'];
}

/** A synchronous step before routing: it sets headers or locals, or throws to refuse the request. */
type RequestHandler = (req: Request, res: Response, next: NextFunction) => void;

const proceed: NextFunction = (error?: unknown) => {
  // The steps throw to refuse; one that passed an error to next() is a bug in it.
  if (error !== undefined)
    throw new InvariantError('a prelude step passed an error to next()', { cause: error });
};

/** Runs the steps in order, in one layer; a throw goes to the error handlers as from any middleware. */
function prelude(steps: readonly RequestHandler[]) {
  return function beforeRouting(req: Request, res: Response, next: NextFunction): void {
    for (const step of steps) step(req, res, proceed);
    next();
  };
}

/** The Express app; it never listens (main.ts and tests do). */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set(
    'trust proxy',
    typeof deps.trustProxy === 'number' ? deps.trustProxy : [...deps.trustProxy],
  );
  app.set('etag', false);
  // Paths match exactly (routers: createRouter): no case folding, no trailing-slash aliases.
  app.set('case sensitive routing', true);
  app.set('strict routing', true);

  // The steps every request takes before routing, run as one middleware: each was its own layer
  // of Express's chain (six dispatches per request). Order matters: the access line is hooked
  // before anything can refuse the request, so a refusal is logged too.
  const steps: RequestHandler[] = [
    requestId(),
    traceContext(),
    accessLog(deps.logger, deps.metrics),
    function oneHost(req) {
      // RFC 9112 §3.2: a request with more than one Host field is invalid (which one would a proxy
      // in front have routed by?).
      if ((req.headersDistinct.host?.length ?? 0) > 1) {
        throw new AppError('ERR_HTTP_BAD_REQUEST', { detail: 'Send exactly one Host header' });
      }
    },
  ];
  const { draining } = deps;
  if (draining !== undefined) {
    steps.push(function closeWhileDraining(_req, res) {
      if (draining()) res.setHeader('Connection', 'close');
    });
  }
  steps.push(securityHeaders());
  app.use(prelude(steps));

  // The hot routes first: a request is matched against the layers in this order.
  app.use(recordsRoute(deps.records));
  app.use(webhooksRoute(deps.webhooks));
  app.use(receiptsRoute(deps.receipts));
  if (deps.frontdoor !== undefined) app.use(frontdoorRoute(deps.frontdoor));
  app.use(
    healthRoutes({
      ...deps.health,
      draining: deps.draining ?? (() => false),
      registry: deps.metrics.registry,
      reportReady: (ready) => {
        deps.metrics.ready.set(ready ? 1 : 0);
      },
    }),
  );
  app.get('/openapi.json', function openapi(_req, res) {
    res.json(OPENAPI_DOCUMENT);
  });
  app.all('/openapi.json', methodNotAllowed('GET, HEAD'));

  app.use(notFound());
  app.use(problemHandler({ onUnexpected: deps.onUnexpectedError }));
  return app;
}

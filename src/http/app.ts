import express, { type Express } from 'express';
import {
  notFound,
  problemHandler,
  type ProblemHandlerOptions,
} from './middleware/problem-handler.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { accessLog } from './middleware/access-log.ts';
import { requestId } from './middleware/request-id.ts';
import { securityHeaders } from './middleware/security-headers.ts';
import { healthRoutes, type HealthOptions } from './routes/health.ts';
import { OPENAPI_DOCUMENT } from './openapi.ts';
import { receiptsRoute, type ReceiptsRouteOptions } from './routes/receipts.ts';
import { recordsRoute, type RecordsRouteOptions } from './routes/records.ts';
import { webhooksRoute, type WebhooksRouteOptions } from './routes/webhooks.ts';

export interface AppDeps {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly health: Omit<HealthOptions, 'registry' | 'draining'>;
  /** From the first shutdown signal on, answers carry `Connection: close`. */
  readonly draining?: () => boolean;
  readonly records: RecordsRouteOptions;
  readonly webhooks: WebhooksRouteOptions;
  readonly receipts: ReceiptsRouteOptions;
  /** Hop count or list of trusted proxy addresses/CIDRs; never `true` (design.md §7). */
  readonly trustProxy: number | readonly string[];
  readonly onUnexpectedError?: ProblemHandlerOptions['onUnexpected'];
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

  app.use(requestId());
  app.use(accessLog(deps.logger, deps.metrics));
  const { draining } = deps;
  if (draining !== undefined) {
    app.use(function closeWhileDraining(_req, res, next) {
      if (draining()) res.setHeader('Connection', 'close');
      next();
    });
  }
  app.use(securityHeaders());

  app.use(
    healthRoutes({
      ...deps.health,
      draining: deps.draining ?? (() => false),
      registry: deps.metrics.registry,
    }),
  );
  app.get('/openapi.json', function openapi(_req, res) {
    res.json(OPENAPI_DOCUMENT);
  });
  app.use(recordsRoute(deps.records));
  app.use(webhooksRoute(deps.webhooks));
  app.use(receiptsRoute(deps.receipts));

  app.use(notFound());
  app.use(problemHandler({ onUnexpected: deps.onUnexpectedError }));
  return app;
}

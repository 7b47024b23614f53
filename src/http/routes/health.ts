import type { Request, Response, Router } from 'express';
import type { Registry } from 'prom-client';
import type { HealthAnswer, ReadinessAnswer } from '../answers.ts';
import { createRouter, methodNotAllowed } from '../router.ts';

export interface HealthOptions {
  readonly draining: () => boolean;
  /** Redis connection state; undefined without Redis (dev mode memory stores). */
  readonly redis?: (() => 'up' | 'down') | undefined;
  /** Under fail-closed a Redis outage turns every request into a 503, so readiness follows it. */
  readonly redisRequired: boolean;
  /**
   * Whether Redis has been reached since the process started: one that never was (a wrong
   * REDIS_URL in a rollout) keeps the instance unready under fail-open too.
   */
  readonly redisReached?: (() => boolean) | undefined;
  /** The DIS clients' circuit breakers: the worst of them. */
  readonly disBreaker: () => ReadinessAnswer['checks']['dis_breaker'];
  /** Each DIS target's breaker, when there are several. */
  readonly disBreakers?: (() => NonNullable<ReadinessAnswer['checks']['dis_breakers']>) | undefined;
  readonly registry: Registry;
  /** Told on each scrape whether /readyz would answer 200 now (gateway_ready). */
  readonly reportReady?: ((ready: boolean) => void) | undefined;
}

export const HEALTH_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

// /healthz: the process answers. /readyz: this instance should get traffic: 503 while draining, while
// Redis is down under fail-closed, and until Redis has been reached once. An open DIS breaker does
// not make an instance unready: every instance shares the same DIS, so all would leave the load
// balancer at once and callers would get its bare 503; ready, they get the gateway's 503 with
// Retry-After, and async requests keep being spooled. No auth, no rate limit.
export function healthRoutes(options: HealthOptions): Router {
  const router = createRouter();

  router.get('/healthz', function healthz(_req: Request, res: Response) {
    const body: HealthAnswer = { status: 'ok' };
    res.setHeader('Cache-Control', 'no-store');
    res.json(body);
  });

  router.get('/readyz', function readyz(_req: Request, res: Response) {
    const body = readiness(options);
    res.setHeader('Cache-Control', 'no-store');
    res.status(body.status === 'ready' ? 200 : 503).json(body);
  });

  router.get('/metrics', async function metrics(_req: Request, res: Response) {
    options.reportReady?.(readiness(options).status === 'ready');
    res.setHeader('Content-Type', options.registry.contentType);
    res.send(await options.registry.metrics());
  });

  for (const path of HEALTH_PATHS) router.all(path, methodNotAllowed('GET, HEAD'));
  return router;
}

function readiness(options: HealthOptions): ReadinessAnswer {
  const draining = options.draining();
  const redis = options.redis?.() ?? 'not_configured';
  const dis = options.disBreaker();
  const redisOk =
    redis !== 'down' || (!options.redisRequired && (options.redisReached?.() ?? true));
  return {
    status: !draining && redisOk ? 'ready' : 'not_ready',
    checks: {
      draining,
      redis,
      dis_breaker: dis,
      ...(options.disBreakers === undefined ? {} : { dis_breakers: options.disBreakers() }),
    },
  };
}

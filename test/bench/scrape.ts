// A few of the gateway's own counters from GET /metrics (Prometheus text), to show whether the
// run took paths that change the figures: rate-limit fallbacks to memory, Redis errors, DIS
// retries.

export interface Counters {
  readonly httpRequests: number;
  readonly disRequests: number;
  readonly disRetries: number;
  readonly rateLimitFallbacks: number;
  readonly redisErrors: number;
}

/** The sum of every sample of a metric (all label sets); 0 when it has none. */
export function sumMetric(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!rest.startsWith('{') && !rest.startsWith(' ')) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}

export async function gatewayCounters(url: string): Promise<Counters> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return {
    httpRequests: sumMetric(text, 'gateway_http_requests_total'),
    disRequests: sumMetric(text, 'gateway_dis_requests_total'),
    disRetries: sumMetric(text, 'gateway_dis_retries_total'),
    rateLimitFallbacks: sumMetric(text, 'gateway_ratelimit_fallbacks_total'),
    redisErrors: sumMetric(text, 'gateway_redis_errors_total'),
  };
}

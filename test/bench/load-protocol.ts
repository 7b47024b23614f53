import { z } from 'zod';

// Messages between the benchmark (parent) and the load generator (a child process, so that the
// cost of generating load and signing webhooks never lands in a measured process). Both sides
// parse what they receive: an IPC message is `unknown`.

const Headers = z.record(z.string(), z.string());

export const LoadRequest = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('static'),
    path: z.string(),
    headers: Headers,
    body: z.string(),
  }),
  z.object({
    /** A Standard Webhooks delivery: a fresh webhook-id, timestamp and signature per request. */
    kind: z.literal('standard-webhook'),
    path: z.string(),
    headers: Headers,
    body: z.string(),
    secret: z.string(),
    idPrefix: z.string(),
  }),
]);
export type LoadRequest = z.infer<typeof LoadRequest>;

export const RunCommand = z.object({
  type: z.literal('run'),
  id: z.number(),
  url: z.string(),
  request: LoadRequest,
  connections: z.number().int().positive(),
  durationS: z.number().positive(),
  /** Requests per second over all connections (open loop); absent for a closed loop. */
  rate: z.number().positive().optional(),
  /** Open loops: evenly spaced requests, or autocannon's `overallRate` (bursts each second). */
  pacer: z.enum(['paced', 'autocannon']).optional(),
  /** Closed loops: wrk (default for a fixed request) or autocannon (`--generator autocannon`). */
  generator: z.enum(['wrk', 'autocannon']).optional(),
});
export type RunCommand = z.infer<typeof RunCommand>;

export const LatencySummary = z.object({
  /** Milliseconds, from a microsecond histogram of 2xx answers. */
  p50: z.number(),
  p90: z.number(),
  p99: z.number(),
  p999: z.number(),
  mean: z.number(),
  max: z.number(),
});
export type LatencySummary = z.infer<typeof LatencySummary>;

export const RunResult = z.object({
  /** wrk for closed loops of one static request, autocannon for signed webhooks, a paced undici sender for open loops. */
  generator: z.enum(['wrk', 'autocannon', 'autocannon-rate', 'paced']),
  durationS: z.number(),
  /** Every answer received, whatever its status. */
  responses: z.number(),
  ok: z.number(),
  non2xx: z.number(),
  errors: z.number(),
  timeouts: z.number(),
  statusCodes: z.record(z.string(), z.number()),
  latency: LatencySummary,
  /** autocannon's own percentiles (whole milliseconds), closed loops only. */
  autocannonLatency: z.object({ p50: z.number(), p99: z.number(), p999: z.number() }).optional(),
  /** Open loops: requests sent more than 5 ms after their slot (the sender could not keep up). */
  lateSends: z.number().optional(),
});
export type RunResult = z.infer<typeof RunResult>;

export const LoadReply = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('done'), id: z.number(), result: RunResult }),
  z.object({ type: z.literal('failed'), id: z.number(), message: z.string() }),
]);
export type LoadReply = z.infer<typeof LoadReply>;

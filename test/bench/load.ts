import autocannon, { type RequestParams, type RequestSpec } from 'autocannon';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { signStandardWebhook } from '../../src/webhooks/sign.ts';
import { runOpenLoop } from './load-open.ts';
import { runWrk } from './load-wrk.ts';
import {
  RunCommand,
  type LatencySummary,
  type LoadReply,
  type LoadRequest,
  type RunResult,
} from './load-protocol.ts';

// The load generator: a child process (forked by load-client.ts with an IPC channel) that runs one
// load run per `run` command and answers with a summary: wrk for closed loops of a fixed request
// (load-wrk.ts), autocannon for closed loops of signed webhooks, a paced sender for open loops
// (load-open.ts says why). Latencies are recorded here in microseconds;
// autocannon's own histogram keeps whole milliseconds, too coarse for "median within 1 ms".

function send(reply: LoadReply): void {
  process.send?.(reply);
}

/** Headers and body of each next request: fixed, or a freshly signed webhook delivery. */
function requestFactory(
  request: LoadRequest,
  runId: number,
): () => { headers: Record<string, string>; body: string } {
  if (request.kind === 'static') return () => ({ headers: request.headers, body: request.body });
  let sequence = 0;
  const { secret, body, headers, idPrefix } = request;
  return () => {
    sequence += 1;
    // Unique per process, run and request: the gateway's replay guard must see a new delivery.
    const id = `${idPrefix}-${process.pid}-${runId}-${sequence}`;
    const timestamp = Math.floor(Date.now() / 1000);
    return {
      body,
      headers: {
        ...headers,
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signStandardWebhook({ secret, id, timestamp, body }),
      },
    };
  };
}

function latencyOf(histogram: RecordableHistogram): LatencySummary {
  if (histogram.count === 0) {
    const none = Number.NaN;
    return { p50: none, p90: none, p99: none, p999: none, mean: none, max: none };
  }
  const ms = (micros: number): number => micros / 1000;
  return {
    p50: ms(histogram.percentile(50)),
    p90: ms(histogram.percentile(90)),
    p99: ms(histogram.percentile(99)),
    p999: ms(histogram.percentile(99.9)),
    mean: ms(histogram.mean),
    max: ms(histogram.max),
  };
}

async function runAutocannon(
  command: RunCommand,
  histogram: RecordableHistogram,
): Promise<RunResult> {
  const next = requestFactory(command.request, command.id);
  const fixed = command.request.kind === 'static';
  const spec: RequestSpec = fixed
    ? { method: 'POST', path: command.request.path, ...next() }
    : {
        method: 'POST',
        path: command.request.path,
        setupRequest: (params: RequestParams): RequestParams => ({ ...params, ...next() }),
      };
  const statusCodes: Record<string, number> = {};
  let responses = 0;
  let ok = 0;
  const instance = autocannon({
    url: command.url,
    connections: command.connections,
    duration: command.durationS,
    timeout: 10,
    requests: [spec],
    ...(command.rate === undefined ? {} : { overallRate: command.rate }),
  });
  instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
    responses += 1;
    const key = String(statusCode);
    statusCodes[key] = (statusCodes[key] ?? 0) + 1;
    if (statusCode >= 200 && statusCode < 300) {
      ok += 1;
      histogram.record(Math.max(1, Math.round(responseTimeMs * 1000)));
    }
  });
  const result = await instance;
  return {
    generator: command.rate === undefined ? 'autocannon' : 'autocannon-rate',
    durationS: result.duration,
    responses,
    ok,
    non2xx: responses - ok,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    latency: latencyOf(histogram),
    autocannonLatency: {
      p50: result.latency.p50,
      p99: result.latency.p99,
      p999: result.latency.p99_9,
    },
  };
}

async function runOnce(command: RunCommand): Promise<RunResult> {
  const histogram = createHistogram();
  // Closed loops of one fixed request: wrk (load-wrk.ts); signed webhooks need a fresh signature
  // per request, which autocannon's setupRequest makes.
  if (
    command.rate === undefined &&
    command.request.kind === 'static' &&
    command.generator !== 'autocannon'
  )
    return runWrk(command);
  if (command.rate === undefined || command.pacer === 'autocannon')
    return runAutocannon(command, histogram);
  const counts = await runOpenLoop({
    url: command.url,
    connections: command.connections,
    durationS: command.durationS,
    rate: command.rate,
    request: command.request,
    next: requestFactory(command.request, command.id),
    histogram,
  });
  return { ...counts, generator: 'paced', latency: latencyOf(histogram) };
}

process.on('message', (message: unknown) => {
  const parsed = RunCommand.safeParse(message);
  if (!parsed.success) {
    send({ type: 'failed', id: -1, message: `bad command: ${parsed.error.message}` });
    return;
  }
  const command = parsed.data;
  runOnce(command).then(
    (result) => {
      send({ type: 'done', id: command.id, result });
    },
    (error: unknown) => {
      send({ type: 'failed', id: command.id, message: String(error) });
    },
  );
});
// The parent going away closes the channel: leave with it instead of running on as an orphan.
process.on('disconnect', () => {
  process.exit(0);
});
send({ type: 'ready' });

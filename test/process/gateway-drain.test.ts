import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import {
  pollReadiness,
  postRecords,
  probeConnect,
  storedRecords,
  type DrainPayload,
  expectAllAcknowledged,
  expectReadinessDrain,
  type PostOutcome,
  expectStoredExactly,
  type ReadinessSample,
} from '../helpers/process-drain-client.ts';
import { startGatewayFixture, type GatewayFixture } from '../helpers/process-fixture.ts';
import { spawnGateway } from '../helpers/process-gateway.ts';
import { startRedis } from '../helpers/redis-server.ts';
import { within } from '../helpers/wait.ts';

// design.md §7 / issue #5 §4: SIGTERM → /readyz 503 at once → keep serving for SHUTDOWN_DELAY_MS →
// stop accepting → in-flight requests finish with their DIS calls → exit 0. DIS answers after
// LATENCY_MS, longer than the delay, so the requests in flight at SIGTERM are still waiting on DIS
// (or in the gateway's queue for it) when the listener closes, and so are the ones sent during the
// delay.

const RUNS = 3;
const IN_FLIGHT = 20;
const DURING_DELAY = 3;
const RECORDS_PER_REQUEST = 2;
const LATENCY_MS = 1500;
const DELAY_MS = 700;
const TIMEOUT_MS = 8000;
/** Between "all in flight" and SIGTERM. */
const SETTLE_MS = 150;

interface Shared {
  /** One DIS stream per run, so each run's records are counted on their own. */
  readonly fixture: GatewayFixture;
  readonly redisUrl: string;
}

interface RunFigures {
  readonly answered200: number;
  readonly records: number;
  readonly stored: number;
  readonly exitMs: number;
  readonly ready503Ms: number;
  readonly inFlightWithClose: number;
}

async function drainRun(t: TestContext, shared: Shared, run: number): Promise<RunFigures> {
  const { emulator } = shared.fixture;
  const disStream = shared.fixture.disStreams[run - 1];
  assert.ok(disStream !== undefined);
  const gateway = await spawnGateway(t, {
    env: {
      ...shared.fixture.env,
      REDIS_URL: shared.redisUrl,
      GATEWAY_STREAMS: `events=${disStream}:4`,
      SHUTDOWN_DELAY_MS: String(DELAY_MS),
      SHUTDOWN_TIMEOUT_MS: String(TIMEOUT_MS),
    },
  });
  const logs = (): string => `\nstdout:\n${gateway.stdout()}\nstderr:\n${gateway.stderr()}`;
  const inFlightAgent = new Agent({ connections: IN_FLIGHT, keepAliveTimeout: 30_000 });
  const lateAgent = new Agent({ connections: DURING_DELAY, keepAliveTimeout: 30_000 });
  const probeAgent = new Agent({ connections: 1 });
  t.after(() => Promise.all([inFlightAgent, lateAgent, probeAgent].map((a) => a.destroy())));
  const token = shared.fixture.token(
    `drain-${run}-${randomBytes(4).toString('hex')}`,
    ['dis:write:events'],
    300,
  );
  const ready = await request(`${gateway.url}/readyz`, { dispatcher: probeAgent });
  assert.equal(ready.statusCode, 200, `ready before SIGTERM: ${await ready.body.text()}`);

  // PutRecords arrivals at the emulator: the proof that requests are waiting on DIS. The gateway may
  // coalesce records and cap the PutRecords in flight, so arrivals need not match requests.
  let arrivals = 0;
  const onRequest = (req: IncomingMessage): void => {
    if (req.method === 'POST' && req.url?.endsWith('/records') === true) arrivals += 1;
  };
  emulator.server.on('request', onRequest);
  t.after(() => emulator.server.off('request', onRequest));

  const origin = performance.now();
  const payloads = (group: string, index: number): DrainPayload[] =>
    Array.from({ length: RECORDS_PER_REQUEST }, (_, j) => ({
      id: `r${run}-${group}${index}-${j}`,
      run,
      nonce: randomBytes(8).toString('hex'),
    }));
  const send = (agent: Agent, records: DrainPayload[]) =>
    postRecords({ url: gateway.url, agent, token, stream: 'events', records, origin });
  const inFlightSent = Array.from({ length: IN_FLIGHT }, (_, i) => payloads('f', i));
  let connected = 0;
  inFlightAgent.on('connect', () => (connected += 1));
  let settled = 0;
  const early: PostOutcome[] = [];
  const inFlight = inFlightSent.map(async (records) => {
    const outcome = await send(inFlightAgent, records);
    settled += 1;
    early.push(outcome);
    return outcome;
  });
  // In flight: each request on its own established connection (undici writes it at once), DIS busy.
  // Bounded by its own deadline: a helper's timeout would leave this loop polling forever.
  const inFlightDeadline = performance.now() + 10_000;
  const waiting = (): boolean => connected < IN_FLIGHT || arrivals === 0;
  while (waiting() && settled === 0 && performance.now() < inFlightDeadline) await sleep(5);
  assert.ok(
    !waiting() && settled === 0,
    `${connected} of ${IN_FLIGHT} connections, ${arrivals} PutRecords; answered early: ` +
      `${JSON.stringify(early.slice(0, 3))}${logs()}`,
  );
  await sleep(SETTLE_MS);
  assert.equal(settled, 0, `no request answered before SIGTERM: ${JSON.stringify(early)}`);

  const signalAt = performance.now() - origin;
  const exited = gateway.stop('SIGTERM', TIMEOUT_MS + 2000).then((code) => ({
    code,
    at: performance.now() - origin,
  }));
  let processEnded = false;
  void exited.finally(() => (processEnded = true)).catch(() => undefined);

  // Readiness from the signal on; the requests "during the delay" go out once it has flipped.
  let flipped: (sample: ReadinessSample) => void = () => undefined;
  const flip = new Promise<ReadinessSample>((resolve) => (flipped = resolve));
  const readiness = pollReadiness({
    url: gateway.url,
    agent: probeAgent,
    origin,
    intervalMs: 15,
    maxMs: TIMEOUT_MS,
    stop: () => processEnded,
    onSample: (sample: ReadinessSample) => {
      if (sample.result === 503) flipped(sample);
    },
  });
  const flipSample = await within(flip, DELAY_MS, 'readiness flipping to 503');
  // The first 503's answer: an upper bound on when the drain began.
  const flippedAt = flipSample.doneAt;
  const lateSent = Array.from({ length: DURING_DELAY }, (_, i) => payloads('d', i));
  const lateSentAt: number[] = [];
  const late = lateSent.map(async (records, i) => {
    await sleep(i * 50);
    lateSentAt.push(performance.now() - origin);
    return send(lateAgent, records).finally(() => (settled += 1));
  });
  // The listener closes DELAY_MS after the signal was handled, which was before flippedAt.
  await sleep(Math.max(0, flippedAt + DELAY_MS + 300 - (performance.now() - origin)));
  const probe = {
    at: performance.now() - origin,
    result: await probeConnect(gateway.url),
    alive: gateway.child.exitCode === null && gateway.child.signalCode === null,
    running: IN_FLIGHT + DURING_DELAY - settled,
  };

  const inFlightOutcomes = await within(Promise.all(inFlight), TIMEOUT_MS, 'in-flight requests');
  const lateOutcomes = await within(
    Promise.all(late),
    TIMEOUT_MS,
    'requests sent during the delay',
  );
  const exit = await exited;
  emulator.server.off('request', onRequest);
  const samples = await readiness;

  const { firstRefused, polls503 } = expectReadinessDrain({
    samples,
    flip: flipSample,
    signalAt,
    delayMs: DELAY_MS,
  });
  assert.ok(
    lateSentAt.every((at) => at < signalAt + DELAY_MS - 50),
    `precondition: the late requests went out inside the delay (${lateSentAt.join(', ')})`,
  );
  // After the delay: no new connections, while the process still drains its in-flight requests.
  assert.equal(probe.result, 'ECONNREFUSED', `connect after the delay${logs()}`);
  assert.ok(probe.alive && probe.running > 0, `the probe ran during the drain: ${probe.running}`);

  // Every request: 200 with one ok verdict per record. Late ones arrived while draining, so their
  // connections are not offered for reuse.
  const sent = [...inFlightSent, ...lateSent];
  const outcomes = [...inFlightOutcomes, ...lateOutcomes];
  const { acknowledged, sentById } = expectAllAcknowledged(
    outcomes.map((outcome, i) => ({ label: `request ${i}`, sent: sent[i], outcome })),
  );
  for (const outcome of lateOutcomes) {
    assert.ok(outcome.kind === 'answered' && outcome.connection === 'close', 'late answer closes');
  }

  // DIS holds exactly the acknowledged records, each where its answer said.
  const stored = expectStoredExactly(storedRecords(emulator, disStream), acknowledged, sentById);

  assert.equal(exit.code, 0, `exit code${logs()}`);
  const exitMs = exit.at - signalAt;
  assert.ok(exitMs < TIMEOUT_MS, `exited ${exitMs} ms after SIGTERM`);
  assert.match(gateway.stdout(), /drained/);

  const inFlightWithClose = inFlightOutcomes.filter(
    (o) => o.kind === 'answered' && o.connection === 'close',
  ).length;
  const answered = outcomes.filter((o) => o.kind === 'answered' && o.status === 200).length;
  const ms = (at: number | undefined): string => ((at ?? Number.NaN) - signalAt).toFixed(0);
  t.diagnostic(
    `run ${run}: ${IN_FLIGHT} in flight + ${DURING_DELAY} during delay, ${answered} answered 200 with ` +
      `${acknowledged.size} records, ${stored.length} in DIS (${arrivals} PutRecords), last answer ` +
      `after ${ms(Math.max(...outcomes.map((o) => o.at)))} ms, exit ${exit.code} after ${ms(exit.at)} ` +
      `ms; readyz 503 after ${ms(flippedAt)} ms (${polls503} polls 503), new connection refused ` +
      `after ${ms(firstRefused?.at)} ms, probe at ${ms(probe.at)} ms: ${probe.result} with ` +
      `${probe.running} still running; in-flight answers with Connection: close ` +
      `${inFlightWithClose}/${IN_FLIGHT}`,
  );
  return {
    answered200: answered,
    records: acknowledged.size,
    stored: stored.length,
    exitMs,
    ready503Ms: flippedAt - signalAt,
    inFlightWithClose,
  };
}

describe('gateway process drain on SIGTERM', () => {
  it(
    `SIGTERM with ${IN_FLIGHT} requests waiting on a slow DIS, ${RUNS} times: readiness flips at once, the delay still serves, then no new connections; every request gets its verdicts, DIS holds exactly the acknowledged records, exit 0`,
    { timeout: 60_000 },
    async (t) => {
      const redis = await startRedis();
      t.after(() => redis.stop());
      const fixture = await startGatewayFixture(t, {
        name: 'proc-drain',
        partitions: 4,
        streams: RUNS,
      });
      fixture.emulator.faults.setLatency(LATENCY_MS);
      const shared = { fixture, redisUrl: redis.url };

      const figures: RunFigures[] = [];
      for (let run = 1; run <= RUNS; run += 1) figures.push(await drainRun(t, shared, run));

      const sum = (pick: (f: RunFigures) => number) => figures.reduce((n, f) => n + pick(f), 0);
      const exits = figures.map((f) => f.exitMs.toFixed(0)).join('/');
      t.diagnostic(
        `all ${RUNS} runs: ${sum((f) => f.answered200)} requests answered 200 with ${sum((f) => f.records)} ` +
          `records, ${sum((f) => f.stored)} in DIS; exits after ${exits} ms; readyz 503 after ` +
          `${figures.map((f) => f.ready503Ms.toFixed(0)).join('/')} ms`,
      );
      await t.test(
        'answers to requests that were already in flight at SIGTERM carry Connection: close',
        () => {
          assert.equal(
            sum((f) => f.inFlightWithClose),
            RUNS * IN_FLIGHT,
          );
        },
      );
    },
  );
});

import type { LoadRequest, RunResult } from './load-protocol.ts';
import { measureWindow, type MeasuredTarget, type Observers } from './measure.ts';
import { readCpuTicks, readMemory } from './proc-stats.ts';
import { sumMetric } from './scrape.ts';
import { linearSlope } from './stats.ts';

// `--soak S`: find the gateway's single-event maximum (one closed-loop run), then hold half of it
// as an open loop for S seconds, sampling the gateway's RSS and CPU every 10 s. The verdict is the
// slope of a linear fit over the second half, after start-up growth and JIT have settled.
// Next to RSS, the gateway's own heap gauges (GET /metrics every 2 s) tell a JavaScript leak from
// memory the process keeps: the lowest old-space use of each minute is what survived its
// mark-compacts (the live heap), the committed heap is what V8 holds from the system.

const SAMPLE_INTERVAL_MS = 10_000;
const HEAP_SAMPLE_INTERVAL_MS = 2_000;
const MIB = 1024 * 1024;

export interface HeapMinute {
  /** End of the minute, seconds into the soak. */
  readonly tS: number;
  /** Lowest old-space use seen in the minute. */
  readonly liveMiB: number;
  /** Highest committed V8 heap seen in the minute. */
  readonly committedMiB: number;
}

export interface HeapTrend {
  readonly minutes: readonly HeapMinute[];
  readonly liveSlopeSecondHalfMiBPerMin: number;
  readonly committedSlopeSecondHalfMiBPerMin: number;
}

export interface SoakSample {
  readonly tS: number;
  readonly rssMiB: number;
  /** % of one core over the interval that ended at tS. */
  readonly cpuPercent: number;
}

export interface SoakResult {
  readonly durationS: number;
  readonly rate: number;
  readonly calibrationReqPerS: number;
  readonly samples: readonly SoakSample[];
  readonly slopeSecondHalfMiBPerMin: number;
  readonly slopeWholeMiBPerMin: number;
  readonly firstMiB: number;
  readonly lastMiB: number;
  readonly maxMiB: number;
  readonly hwmMiB: number;
  readonly heap: HeapTrend;
  readonly run: RunResult;
}

export interface SoakOptions {
  readonly request: LoadRequest;
  readonly connections: number;
  readonly warmupS: number;
  readonly calibrationS: number;
  readonly soakS: number;
  readonly clockTicks: number;
  readonly pacer: 'paced' | 'autocannon';
  readonly log: (line: string) => void;
}

export async function runSoak(
  observers: Observers,
  gateway: MeasuredTarget,
  options: SoakOptions,
): Promise<SoakResult> {
  const closed = { request: options.request, connections: options.connections, rate: undefined };
  if (options.warmupS > 0)
    await observers.load.run({ ...closed, url: gateway.url, durationS: options.warmupS });
  const calibration = await measureWindow(observers, gateway, {
    ...closed,
    durationS: options.calibrationS,
  });
  const rate = Math.max(1, Math.round(calibration.reqPerS / 2));
  options.log(
    `soak: single-event maximum ${calibration.reqPerS.toFixed(0)} req/s; ` +
      `${options.soakS} s at ${rate} req/s, RSS every ${SAMPLE_INTERVAL_MS / 1000} s`,
  );

  const samples: SoakSample[] = [];
  const started = performance.now();
  let lastTicks = readCpuTicks(gateway.pid) ?? Number.NaN;
  let lastAt = started;
  const sample = (): void => {
    const now = performance.now();
    const ticks = readCpuTicks(gateway.pid) ?? Number.NaN;
    const rss = readMemory(gateway.pid)?.rss ?? Number.NaN;
    const seconds = (now - lastAt) / 1000;
    samples.push({
      tS: Math.round((now - started) / 100) / 10,
      rssMiB: rss / MIB,
      cpuPercent: seconds > 0 ? ((ticks - lastTicks) / options.clockTicks / seconds) * 100 : 0,
    });
    lastTicks = ticks;
    lastAt = now;
    if (samples.length % 6 === 0) {
      options.log(`soak: ${samples.at(-1)?.tS ?? 0} s, RSS ${(rss / MIB).toFixed(1)} MiB`);
    }
  };
  const heapSamples: { tS: number; oldMiB: number; committedMiB: number }[] = [];
  const sampleHeap = async (): Promise<void> => {
    try {
      const text = await (await fetch(`${gateway.url}/metrics`)).text();
      heapSamples.push({
        tS: (performance.now() - started) / 1000,
        oldMiB: sumMetric(text, 'nodejs_heap_space_size_used_bytes{space="old"}') / MIB,
        committedMiB: sumMetric(text, 'nodejs_heap_size_total_bytes') / MIB,
      });
    } catch {
      // A missed scrape leaves a gap; the minute still has the others.
    }
  };
  sample();
  const timer = setInterval(sample, SAMPLE_INTERVAL_MS);
  const heapTimer = setInterval(() => void sampleHeap(), HEAP_SAMPLE_INTERVAL_MS);
  let run: RunResult;
  try {
    run = await observers.load.run({
      url: gateway.url,
      request: options.request,
      connections: options.connections,
      durationS: options.soakS,
      rate,
      pacer: options.pacer,
    });
  } finally {
    clearInterval(timer);
    clearInterval(heapTimer);
  }
  sample();

  const points = samples.map((s) => ({ x: s.tS / 60, y: s.rssMiB }));
  const half = options.soakS / 2 / 60;
  const rss = samples.map((s) => s.rssMiB);
  return {
    durationS: options.soakS,
    rate,
    calibrationReqPerS: calibration.reqPerS,
    samples,
    slopeSecondHalfMiBPerMin: linearSlope(points.filter((p) => p.x >= half)),
    slopeWholeMiBPerMin: linearSlope(points),
    firstMiB: rss[0] ?? Number.NaN,
    lastMiB: rss.at(-1) ?? Number.NaN,
    maxMiB: Math.max(...rss),
    hwmMiB: (readMemory(gateway.pid)?.hwm ?? Number.NaN) / MIB,
    heap: heapTrend(heapSamples, options.soakS),
    run,
  };
}

/** Per-minute live (lowest old-space) and committed (highest) heap, with second-half slopes. */
export function heapTrend(
  samples: readonly { tS: number; oldMiB: number; committedMiB: number }[],
  soakS: number,
): HeapTrend {
  const byMinute = new Map<number, { live: number; committed: number }>();
  for (const s of samples) {
    const minute = Math.floor(s.tS / 60);
    const m = byMinute.get(minute) ?? { live: Infinity, committed: 0 };
    m.live = Math.min(m.live, s.oldMiB);
    m.committed = Math.max(m.committed, s.committedMiB);
    byMinute.set(minute, m);
  }
  const minutes = [...byMinute.entries()]
    .filter(([minute]) => (minute + 1) * 60 <= soakS)
    .map(([minute, m]) => ({ tS: (minute + 1) * 60, liveMiB: m.live, committedMiB: m.committed }));
  const secondHalf = minutes.filter((m) => m.tS > soakS / 2);
  return {
    minutes,
    liveSlopeSecondHalfMiBPerMin: linearSlope(
      secondHalf.map((m) => ({ x: m.tS / 60, y: m.liveMiB })),
    ),
    committedSlopeSecondHalfMiBPerMin: linearSlope(
      secondHalf.map((m) => ({ x: m.tS / 60, y: m.committedMiB })),
    ),
  };
}

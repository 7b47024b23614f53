import type { LoadRequest, RunResult } from './load-protocol.ts';
import { measureWindow, type MeasuredTarget, type Observers } from './measure.ts';
import { readCpuTicks, readMemory } from './proc-stats.ts';
import { linearSlope } from './stats.ts';

// `--soak S`: find the gateway's single-event maximum (one closed-loop run), then hold half of it
// as an open loop for S seconds, sampling the gateway's RSS and CPU every 10 s. The verdict is the
// slope of a linear fit over the second half, after start-up growth and JIT have settled.

const SAMPLE_INTERVAL_MS = 10_000;
const MIB = 1024 * 1024;

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
  sample();
  const timer = setInterval(sample, SAMPLE_INTERVAL_MS);
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
    run,
  };
}

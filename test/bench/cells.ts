import type { Mode } from './gateway-setup.ts';
import type { WindowSample } from './measure.ts';
import { ratio, spread, type Spread } from './stats.ts';
import type { WorkloadName } from './workloads.ts';

// A cell is one workload × mode × target; its summary is the median (and min/max) over its
// repetitions, and every gateway cell gets its figures as ratios to the baseline's cell.

export const BASELINE = 'baseline';

export interface CellSummary {
  readonly reqPerS: Spread;
  readonly eventsPerS: Spread;
  readonly p50Ms: Spread;
  readonly p99Ms: Spread;
  readonly p999Ms: Spread;
  readonly cpuPercent: Spread;
  readonly cpuMsPerRequest: Spread;
  /** Largest VmRSS sampled over all repetitions. */
  readonly rssPeakMiB: number;
  readonly disCallsPer1k: Spread;
  readonly upstreamCpuPercent: Spread;
  readonly redisCpuPercent: Spread;
  readonly loadCpuPercent: Spread;
  readonly restCpuPercent: Spread;
  readonly non2xx: number;
  readonly errors: number;
  readonly statusCodes: Readonly<Record<string, number>>;
  readonly logBytesPerRequest: number | undefined;
}

export interface Cell {
  readonly workload: WorkloadName;
  readonly title: string;
  readonly mode: Mode;
  /** Open loop: the requested rate (req/s). */
  readonly rate: number | undefined;
  readonly target: string;
  readonly eventsPerRequest: number;
  readonly samples: readonly WindowSample[];
  readonly summary: CellSummary;
  /** Gateway / baseline, medians of the same workload and mode in the same run. */
  readonly ratios?: Readonly<Record<RatioName, number>>;
}

export const RATIO_NAMES = [
  'reqPerS',
  'eventsPerS',
  'p50Ms',
  'p99Ms',
  'p999Ms',
  'cpuPercent',
  'cpuMsPerRequest',
  'rssPeakMiB',
  'disCallsPer1k',
] as const;
export type RatioName = (typeof RATIO_NAMES)[number];

const MIB = 1024 * 1024;

export function summarize(samples: readonly WindowSample[], eventsPerRequest: number): CellSummary {
  const of = (pick: (s: WindowSample) => number): Spread => spread(samples.map(pick));
  const statusCodes: Record<string, number> = {};
  for (const s of samples) {
    for (const [code, count] of Object.entries(s.run.statusCodes)) {
      statusCodes[code] = (statusCodes[code] ?? 0) + count;
    }
  }
  const logs = samples.map((s) => s.logBytesPerRequest).filter((v) => v !== undefined);
  return {
    reqPerS: of((s) => s.reqPerS),
    eventsPerS: of((s) => s.reqPerS * eventsPerRequest),
    p50Ms: of((s) => s.run.latency.p50),
    p99Ms: of((s) => s.run.latency.p99),
    p999Ms: of((s) => s.run.latency.p999),
    cpuPercent: of((s) => s.cpu.target),
    cpuMsPerRequest: of((s) => s.cpuMsPerRequest),
    rssPeakMiB: Math.max(...samples.map((s) => s.rssPeakBytes)) / MIB,
    disCallsPer1k: of((s) => s.disCallsPer1k),
    upstreamCpuPercent: of((s) => s.cpu.upstream),
    redisCpuPercent: of((s) => s.cpu.redis),
    loadCpuPercent: of((s) => s.cpu.load),
    restCpuPercent: of((s) => s.cpu.rest),
    non2xx: samples.reduce((n, s) => n + s.run.non2xx, 0),
    errors: samples.reduce((n, s) => n + s.run.errors, 0),
    statusCodes,
    logBytesPerRequest:
      logs.length === 0 ? undefined : logs.reduce((a, b) => a + b, 0) / logs.length,
  };
}

function medianOf(summary: CellSummary, name: RatioName): number {
  const value = summary[name];
  return typeof value === 'number' ? value : value.median;
}

/** Adds ratios to the baseline to every non-baseline cell that has a baseline counterpart. */
export function withRatios(cells: readonly Cell[]): Cell[] {
  return cells.map((cell) => {
    if (cell.target === BASELINE) return cell;
    const base = cells.find(
      (c) => c.target === BASELINE && c.workload === cell.workload && c.mode === cell.mode,
    );
    if (base === undefined) return cell;
    const r = (name: RatioName): number =>
      ratio(medianOf(cell.summary, name), medianOf(base.summary, name));
    const ratios: Record<RatioName, number> = {
      reqPerS: r('reqPerS'),
      eventsPerS: r('eventsPerS'),
      p50Ms: r('p50Ms'),
      p99Ms: r('p99Ms'),
      p999Ms: r('p999Ms'),
      cpuPercent: r('cpuPercent'),
      cpuMsPerRequest: r('cpuMsPerRequest'),
      rssPeakMiB: r('rssPeakMiB'),
      disCallsPer1k: r('disCallsPer1k'),
    };
    return { ...cell, ratios };
  });
}

export function findCell(
  cells: readonly Cell[],
  workload: WorkloadName,
  mode: Mode,
  target: string,
): Cell | undefined {
  return cells.find((c) => c.workload === workload && c.mode === mode && c.target === target);
}

import { BASELINE, findCell, type Cell } from './cells.ts';
import type { SoakResult } from './soak.ts';

// The targets of issue #14 §2 (step 2 after issue #6's) as pass/fail lines, from one run's cells. A target whose cells
// were not run (or whose gateway variant the config refused) is "not measured", never a pass.

export type TargetStatus = 'pass' | 'fail' | 'not measured';

export interface TargetLine {
  readonly id: string;
  readonly target: string;
  readonly status: TargetStatus;
  readonly measured: string;
}

const GATEWAY = 'gateway';
const BATCHING_OFF = 'gateway-batching-off';
/** deploy/base/deployment.yaml's memory limit (512Mi), which the gateway runs under. */
const DEPLOYMENT_MEMORY_LIMIT_MIB = 512;
/** "No upward trend": the soak's RSS slope over its second half, MiB per minute. */
export const SOAK_SLOPE_LIMIT_MIB_PER_MIN = 1;

const fmt = (value: number, digits = 2): string =>
  Number.isFinite(value) ? value.toFixed(digits) : 'n/a';

function line(id: string, target: string, ok: boolean | undefined, measured: string): TargetLine {
  return { id, target, status: ok === undefined ? 'not measured' : ok ? 'pass' : 'fail', measured };
}

function both(a: TargetStatus, b: TargetStatus): TargetStatus {
  if (a === 'fail' || b === 'fail') return 'fail';
  if (a === 'not measured' || b === 'not measured') return 'not measured';
  return 'pass';
}

export function evaluateTargets(
  cells: readonly Cell[],
  soak: SoakResult | undefined,
  openRate: number,
): TargetLine[] {
  const lines: TargetLine[] = [];
  const single = findCell(cells, 'single', 'closed', GATEWAY);
  const r1 = single?.ratios?.reqPerS;
  lines.push(
    line(
      '1',
      'single-event req/s >= 0.75 x baseline',
      r1 === undefined || !Number.isFinite(r1) ? undefined : r1 >= 0.75,
      `ratio ${fmt(r1 ?? Number.NaN)} (${fmt(single?.summary.reqPerS.median ?? Number.NaN, 0)} req/s)`,
    ),
  );

  const batch = findCell(cells, 'batch50', 'closed', GATEWAY);
  const r2 = batch?.ratios?.eventsPerS;
  lines.push(
    line(
      '2',
      '50-event JSON events/s >= 0.65 x baseline',
      r2 === undefined || !Number.isFinite(r2) ? undefined : r2 >= 0.65,
      `ratio ${fmt(r2 ?? Number.NaN)} (${fmt(batch?.summary.eventsPerS.median ?? Number.NaN, 0)} events/s)`,
    ),
  );
  const ndjson = findCell(cells, 'ndjson50', 'closed', GATEWAY);
  const r2b = ndjson?.ratios?.eventsPerS;
  lines.push(
    line(
      '2b',
      '50-event NDJSON events/s >= 0.65 x baseline',
      r2b === undefined || !Number.isFinite(r2b) ? undefined : r2b >= 0.65,
      `ratio ${fmt(r2b ?? Number.NaN)} (${fmt(ndjson?.summary.eventsPerS.median ?? Number.NaN, 0)} events/s)`,
    ),
  );

  const open = findCell(cells, 'single', 'open', GATEWAY);
  const openBase = findCell(cells, 'single', 'open', BASELINE);
  const cpuRatio = open?.ratios?.cpuMsPerRequest;
  const cpuLine = line(
    '3a',
    `at ${openRate} req/s: CPU per request <= 1.5 x baseline`,
    cpuRatio === undefined || !Number.isFinite(cpuRatio) ? undefined : cpuRatio <= 1.5,
    `ratio ${fmt(cpuRatio ?? Number.NaN)} (${fmt(open?.summary.cpuMsPerRequest.median ?? Number.NaN, 3)} vs ` +
      `${fmt(openBase?.summary.cpuMsPerRequest.median ?? Number.NaN, 3)} ms/req)`,
  );
  const p99 = open?.summary.p99Ms.median;
  const baseP99 = openBase?.summary.p99Ms.median;
  const p99Line = line(
    '3b',
    `at ${openRate} req/s: p99 <= baseline p99 + 5 ms`,
    p99 === undefined || baseP99 === undefined ? undefined : p99 <= baseP99 + 5,
    `${fmt(p99 ?? Number.NaN)} ms vs ${fmt(baseP99 ?? Number.NaN)} ms`,
  );
  lines.push(cpuLine, p99Line);

  const saturated = single?.summary.disCallsPer1k.median;
  const off = findCell(cells, 'single', 'open', BATCHING_OFF);
  const calls = open?.summary.disCallsPer1k.median;
  lines.push(
    line(
      '4',
      'at saturation (single events, closed loop): <= 50 DIS calls per 1,000 requests',
      saturated === undefined || !Number.isFinite(saturated) ? undefined : saturated <= 50,
      `${fmt(saturated ?? Number.NaN, 1)} calls/1k; evenly spaced ${openRate} req/s (reported, not a target): ` +
        `${fmt(calls ?? Number.NaN, 1)} calls/1k (batching off: ${fmt(off?.summary.disCallsPer1k.median ?? Number.NaN, 1)})`,
    ),
  );

  const closedPeak = (target: string): number | undefined => {
    const peaks = cells
      .filter((c) => c.target === target && c.mode === 'closed')
      .map((c) => c.summary.rssPeakMiB);
    return peaks.length === 0 ? undefined : Math.max(...peaks);
  };
  const rss = closedPeak(GATEWAY);
  const baseRss = closedPeak(BASELINE);
  const rssLine = line(
    '5a',
    `peak RSS under saturating load <= 1.5 x baseline and below the Deployment's ${DEPLOYMENT_MEMORY_LIMIT_MIB} MiB limit`,
    rss === undefined || baseRss === undefined
      ? undefined
      : rss <= 1.5 * baseRss && rss < DEPLOYMENT_MEMORY_LIMIT_MIB,
    `${fmt(rss ?? Number.NaN, 1)} MiB vs ${fmt(baseRss ?? Number.NaN, 1)} MiB ` +
      `(ratio ${fmt((rss ?? Number.NaN) / (baseRss ?? Number.NaN))})`,
  );
  const slope = soak?.slopeSecondHalfMiBPerMin;
  const soakLine = line(
    '5b',
    `no upward RSS trend over the soak (slope of 2nd half <= ${SOAK_SLOPE_LIMIT_MIB_PER_MIN} MiB/min)`,
    slope === undefined || !Number.isFinite(slope)
      ? undefined
      : slope <= SOAK_SLOPE_LIMIT_MIB_PER_MIN,
    soak === undefined
      ? 'run npm run bench -- --soak 600'
      : `${fmt(slope ?? Number.NaN, 3)} MiB/min over ${soak.durationS} s at ${soak.rate} req/s`,
  );
  lines.push(rssLine, soakLine);
  return lines;
}

/** One status per numbered target (3a+3b → 3, …). */
export function targetVerdicts(lines: readonly TargetLine[]): Record<string, TargetStatus> {
  const verdicts: Record<string, TargetStatus> = {};
  for (const l of lines) {
    const key = l.id.replace(/[a-z]$/, '');
    const current = verdicts[key];
    verdicts[key] = current === undefined ? l.status : both(current, l.status);
  }
  return verdicts;
}

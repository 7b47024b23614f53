import { BASELINE, type Cell } from './cells.ts';
import type { MachineInfo } from './proc-stats.ts';
import type { SoakResult } from './soak.ts';
import type { Spread } from './stats.ts';
import type { TargetLine } from './targets.ts';

// The benchmark's human output: an aligned text table for stdout and the same as Markdown (for
// bench-results/latest.md and the README). Gateway rows carry their ratio to the baseline.

const num = (value: number, digits: number): string =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', {
        minimumFractionDigits: digits,
        maximumFractionDigits: digits,
      })
    : 'n/a';

const times = (value: number | undefined): string =>
  value === undefined || !Number.isFinite(value) ? '' : `${value.toFixed(2)}x`;

function withRange(s: Spread, digits: number): string {
  if (s.min === s.max) return num(s.median, digits);
  return `${num(s.median, digits)} (${num(s.min, digits)}-${num(s.max, digits)})`;
}

export const HEADERS = [
  'workload',
  'loop',
  'target',
  'req/s (min-max)',
  'events/s',
  'p50 ms',
  'p99 ms',
  'p99.9 ms',
  'CPU %',
  'CPU ms/req',
  'CPU µs/event',
  'RSS peak MiB',
  'DIS calls/1k req',
  'non-2xx',
];

function loopOf(cell: Cell): string {
  return cell.mode === 'closed' ? 'closed' : `open ${cell.rate ?? ''}/s`;
}

function figures(cell: Cell): string[] {
  const s = cell.summary;
  return [
    withRange(s.reqPerS, 0),
    num(s.eventsPerS.median, 0),
    num(s.p50Ms.median, 2),
    num(s.p99Ms.median, 2),
    num(s.p999Ms.median, 2),
    num(s.cpuPercent.median, 0),
    num(s.cpuMsPerRequest.median, 3),
    num((s.cpuMsPerRequest.median * 1000) / cell.eventsPerRequest, 1),
    num(s.rssPeakMiB, 0),
    num(s.disCallsPer1k.median, 1),
    String(s.non2xx + s.errors),
  ];
}

function ratioFigures(cell: Cell): string[] {
  const r = cell.ratios;
  return [
    times(r?.reqPerS),
    times(r?.eventsPerS),
    times(r?.p50Ms),
    times(r?.p99Ms),
    times(r?.p999Ms),
    times(r?.cpuPercent),
    times(r?.cpuMsPerRequest),
    times(r?.cpuMsPerRequest),
    times(r?.rssPeakMiB),
    times(r?.disCallsPer1k),
    '',
  ];
}

export function textTable(rows: readonly (readonly string[])[]): string {
  const widths = HEADERS.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r.map((c, i) => (i < 3 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  '),
    )
    .join('\n');
}

export function formatText(cells: readonly Cell[]): string {
  const rows: string[][] = [HEADERS];
  for (const cell of cells) {
    rows.push([cell.workload, loopOf(cell), cell.target, ...figures(cell)]);
    if (cell.target !== BASELINE && cell.ratios !== undefined) {
      rows.push(['', '', '  / baseline', ...ratioFigures(cell)]);
    }
  }
  return textTable(rows);
}

export function formatSupport(cells: readonly Cell[]): string {
  const rows = [
    [
      'workload',
      'loop',
      'target',
      'DIS emulator CPU %',
      'Redis CPU %',
      'load gen CPU %',
      'rest of machine CPU %',
      'log bytes/req',
    ],
  ];
  for (const cell of cells) {
    const s = cell.summary;
    rows.push([
      cell.workload,
      loopOf(cell),
      cell.target,
      num(s.upstreamCpuPercent.median, 0),
      num(s.redisCpuPercent.median, 0),
      num(s.loadCpuPercent.median, 0),
      num(s.restCpuPercent.median, 0),
      s.logBytesPerRequest === undefined ? '-' : num(s.logBytesPerRequest, 0),
    ]);
  }
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r.map((c, i) => (i < 3 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  '),
    )
    .join('\n');
}

export function formatTargets(lines: readonly TargetLine[]): string {
  return lines
    .map(
      (l) =>
        `  [${l.status === 'pass' ? 'PASS' : l.status === 'fail' ? 'FAIL' : ' -- '}] ${l.id.padEnd(3)} ${l.target}: ${l.measured}`,
    )
    .join('\n');
}

export function machineLine(machine: MachineInfo): string {
  const gib = (machine.memoryBytes / 1024 ** 3).toFixed(1);
  return `${machine.cores} cores (${machine.model}), ${gib} GiB, Node ${machine.node}, ${machine.platform}, Linux ${machine.kernel}`;
}

export function formatSoak(soak: SoakResult): string {
  const series = soak.samples.map((s) => `${s.tS.toFixed(0)}s:${s.rssMiB.toFixed(1)}`).join(' ');
  return [
    `soak: ${soak.durationS} s at ${soak.rate} req/s (half of ${soak.calibrationReqPerS.toFixed(0)}), ` +
      `p50 ${num(soak.run.latency.p50, 2)} ms, p99 ${num(soak.run.latency.p99, 2)} ms, non-2xx ${soak.run.non2xx + soak.run.errors}`,
    `  RSS MiB first ${num(soak.firstMiB, 1)}, last ${num(soak.lastMiB, 1)}, max ${num(soak.maxMiB, 1)}, VmHWM ${num(soak.hwmMiB, 1)}; ` +
      `slope ${num(soak.slopeSecondHalfMiBPerMin, 3)} MiB/min (2nd half), ${num(soak.slopeWholeMiBPerMin, 3)} MiB/min (whole)`,
    `  series: ${series}`,
    `  V8 heap per minute, live (lowest old space) / committed MiB: ` +
      soak.heap.minutes
        .map((m) => `${m.tS.toFixed(0)}s:${num(m.liveMiB, 1)}/${num(m.committedMiB, 1)}`)
        .join(' '),
    `  live heap slope ${num(soak.heap.liveSlopeSecondHalfMiBPerMin, 3)} MiB/min, committed heap ` +
      `slope ${num(soak.heap.committedSlopeSecondHalfMiBPerMin, 3)} MiB/min (2nd half)`,
  ].join('\n');
}

function mdRow(cells: readonly string[]): string {
  return `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
}

export function formatMarkdown(input: {
  readonly machine: MachineInfo;
  readonly when: string;
  readonly settings: string;
  readonly cells: readonly Cell[];
  readonly targets: readonly TargetLine[];
  readonly notes: readonly string[];
  readonly soak: SoakResult | undefined;
}): string {
  const lines = [
    `Benchmark of ${input.when} on ${machineLine(input.machine)}.`,
    '',
    input.settings,
    '',
    mdRow(HEADERS),
    mdRow(HEADERS.map((_, i) => (i < 3 ? '---' : '---:'))),
  ];
  for (const cell of input.cells) {
    const f = figures(cell);
    const r = ratioFigures(cell);
    const merged = f.map((v, i) =>
      cell.ratios === undefined || r[i] === '' ? v : `${v} (${r[i] ?? ''})`,
    );
    lines.push(mdRow([cell.workload, loopOf(cell), cell.target, ...merged]));
  }
  lines.push(
    '',
    'Ratios in parentheses are gateway / baseline of the same workload in the same run.',
    '',
  );
  lines.push('Targets (issue #14 §2):', '');
  for (const t of input.targets) lines.push(`- **${t.status}** ${t.id} ${t.target}: ${t.measured}`);
  if (input.soak !== undefined) lines.push('', '```', formatSoak(input.soak), '```');
  if (input.notes.length > 0) lines.push('', ...input.notes.map((n) => `- ${n}`));
  return `${lines.join('\n')}\n`;
}

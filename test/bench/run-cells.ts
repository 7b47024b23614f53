import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchArgs } from './args.ts';
import { BASELINE, summarize, type Cell } from './cells.ts';
import type { Mode } from './gateway-setup.ts';
import type { LoadRequest, RunResult } from './load-protocol.ts';
import {
  measureWindow,
  type MeasuredTarget,
  type Observers,
  type WindowSample,
} from './measure.ts';
import type { Rig } from './services.ts';
import type { RequestContext, Workload } from './workloads.ts';

// The benchmark's main loop: per workload and loop mode, warm every target up, then run the
// repetitions interleaved (baseline, gateway, …, rotated each time) so that a slow spell of the
// machine hurts all targets alike instead of one of them.

/** Answers other than 2xx during warm-up above this share stop the run: figures would be wrong. */
const MAX_WARMUP_FAILURE_SHARE = 0.01;
const PAUSE_MS = 500;

export interface CellPlan {
  readonly workload: Workload;
  readonly mode: Mode;
  readonly rate: number | undefined;
  readonly targets: readonly MeasuredTarget[];
}

export function planCells(rig: Rig, workloadList: readonly Workload[]): CellPlan[] {
  const baseline: MeasuredTarget = {
    label: BASELINE,
    url: rig.baseline.url,
    pid: rig.baseline.pid,
  };
  const plans: CellPlan[] = [];
  for (const workload of workloadList) {
    const modes: { mode: Mode; rate: number | undefined }[] = [{ mode: 'closed', rate: undefined }];
    if (workload.openRate !== undefined) modes.push({ mode: 'open', rate: workload.openRate });
    for (const { mode, rate } of modes) {
      const gateways = rig.gateways
        .filter((g) => g.variant.runsIn(workload.name, mode))
        .map((g) => ({
          label: g.variant.label,
          url: g.service.url,
          pid: g.service.pid,
          logFile: g.service.logFile,
        }));
      plans.push({ workload, mode, rate, targets: [baseline, ...gateways] });
    }
  }
  return plans;
}

/** Seconds the plan takes, roughly: for the banner. */
export function estimateSeconds(plans: readonly CellPlan[], args: BenchArgs): number {
  const runs = plans.reduce((n, p) => n + p.targets.length, 0);
  return runs * (args.warmupS + args.repetitions * (args.durationS + 1) + 1);
}

function checkWarmup(target: MeasuredTarget, workload: Workload, result: RunResult): void {
  const failed = result.non2xx + result.errors;
  const total = result.responses + result.errors;
  if (total > 0 && failed / total <= MAX_WARMUP_FAILURE_SHARE && result.ok > 0) return;
  throw new Error(
    `${target.label} answered ${failed} of ${total} warm-up requests of workload ` +
      `${workload.name} with errors (status codes ${JSON.stringify(result.statusCodes)}, ` +
      `${result.errors} connection errors); see its log${target.logFile === undefined ? '' : ` ${target.logFile}`}`,
  );
}

export async function runCells(
  plans: readonly CellPlan[],
  observers: Observers,
  context: RequestContext,
  args: BenchArgs,
  log: (line: string) => void,
): Promise<Cell[]> {
  const cells: Cell[] = [];
  for (const plan of plans) {
    const { workload, mode, rate } = plan;
    const request: LoadRequest = workload.request(context);
    const loop = mode === 'closed' ? 'closed loop' : `open loop ${rate ?? 0} req/s`;
    log(`\n${workload.title}, ${loop}: ${plan.targets.map((t) => t.label).join(', ')}`);
    for (const target of plan.targets) {
      if (args.warmupS === 0) continue;
      const warm = await observers.load.run({
        url: target.url,
        request,
        connections: args.connections,
        durationS: args.warmupS,
        pacer: args.pacer,
        generator: args.generator,
        ...(rate === undefined ? {} : { rate }),
      });
      checkWarmup(target, workload, warm);
    }
    const samples = new Map<string, WindowSample[]>(plan.targets.map((t) => [t.label, []]));
    for (let rep = 0; rep < args.repetitions; rep += 1) {
      const order = plan.targets.map((_, i) => plan.targets[(i + rep) % plan.targets.length]);
      for (const target of order) {
        if (target === undefined) continue;
        await sleep(PAUSE_MS);
        const sample = await measureWindow(observers, target, {
          request,
          connections: args.connections,
          durationS: args.durationS,
          rate,
          pacer: args.pacer,
          generator: args.generator,
        });
        samples.get(target.label)?.push(sample);
        log(
          `  rep ${rep + 1}/${args.repetitions} ${target.label.padEnd(22)} ` +
            `${sample.reqPerS.toFixed(0).padStart(6)} req/s  p50 ${sample.run.latency.p50.toFixed(2)} ms  ` +
            `p99 ${sample.run.latency.p99.toFixed(2)} ms  CPU ${sample.cpu.target.toFixed(0)}%  ` +
            `DIS/1k ${sample.disCallsPer1k.toFixed(0)}  non-2xx ${sample.run.non2xx + sample.run.errors}`,
        );
      }
    }
    for (const target of plan.targets) {
      const list = samples.get(target.label) ?? [];
      cells.push({
        workload: workload.name,
        title: workload.title,
        mode,
        rate,
        target: target.label,
        eventsPerRequest: workload.eventsPerRequest,
        samples: list,
        summary: summarize(list, workload.eventsPerRequest),
      });
    }
  }
  return cells;
}

import { statSync, truncateSync } from 'node:fs';
import { z } from 'zod';
import type { LoadClient } from './load-client.ts';
import type { LoadRequest, RunResult } from './load-protocol.ts';
import { readCpuTicks, readSystemCpu, startRssSampler } from './proc-stats.ts';

// One measured window: CPU ticks of every involved process and of the machine, the emulator's
// PutRecords count and the target's log size before and after one autocannon run, VmRSS sampled
// during it.

export interface MeasuredTarget {
  readonly label: string;
  readonly url: string;
  readonly pid: number;
  /** The target's log file (gateways), to report log bytes per request. */
  readonly logFile?: string | undefined;
}

export interface Observers {
  readonly load: LoadClient;
  readonly upstreamUrl: string;
  readonly upstreamPid: number;
  readonly redisPid: number | undefined;
  readonly clockTicks: number;
}

export interface WindowSample {
  readonly run: RunResult;
  readonly wallS: number;
  /** Successful (2xx) requests per second. */
  readonly reqPerS: number;
  /** % of one core. */
  readonly cpu: {
    readonly target: number;
    readonly upstream: number;
    readonly redis: number;
    readonly load: number;
    /** Machine busy time not spent in the four above (other processes, other benchmarks, IRQs). */
    readonly rest: number;
  };
  /** Target CPU milliseconds per successful request. */
  readonly cpuMsPerRequest: number;
  readonly rssPeakBytes: number;
  readonly disCalls: number;
  readonly disCallsPer1k: number;
  readonly logBytesPerRequest: number | undefined;
}

const EmulatorStats = z.object({ putRecordsCalls: z.number() });

async function putRecordsCalls(upstreamUrl: string): Promise<number> {
  const response = await fetch(`${upstreamUrl}/_emulator/stats`);
  return EmulatorStats.parse(await response.json()).putRecordsCalls;
}

function fileSize(path: string | undefined): number | undefined {
  if (path === undefined) return undefined;
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}

/** Logs stay bounded over a long run: the gateway appends (O_APPEND), so truncating is safe. */
const MAX_LOG_BYTES = 256 * 1024 * 1024;

export interface WindowOptions {
  readonly request: LoadRequest;
  readonly connections: number;
  readonly durationS: number;
  readonly rate: number | undefined;
  readonly pacer?: 'paced' | 'autocannon' | undefined;
  readonly generator?: 'wrk' | 'autocannon' | undefined;
}

export async function measureWindow(
  observers: Observers,
  target: MeasuredTarget,
  options: WindowOptions,
): Promise<WindowSample> {
  const pids = {
    target: target.pid,
    upstream: observers.upstreamPid,
    redis: observers.redisPid,
    load: observers.load.pid,
  };
  const ticks = (): Record<keyof typeof pids, number> => ({
    target: readCpuTicks(pids.target) ?? Number.NaN,
    upstream: readCpuTicks(pids.upstream) ?? Number.NaN,
    redis: pids.redis === undefined ? 0 : (readCpuTicks(pids.redis) ?? Number.NaN),
    // With its children: wrk runs as one, and is reaped before the run answers.
    load: readCpuTicks(pids.load, { children: true }) ?? Number.NaN,
  });
  const callsBefore = await putRecordsCalls(observers.upstreamUrl);
  const logBefore = fileSize(target.logFile);
  const sampler = startRssSampler([target.pid], 250);
  const systemBefore = readSystemCpu();
  const before = ticks();
  const started = performance.now();

  const run = await observers.load.run({
    url: target.url,
    request: options.request,
    connections: options.connections,
    durationS: options.durationS,
    ...(options.rate === undefined ? {} : { rate: options.rate }),
    ...(options.pacer === undefined ? {} : { pacer: options.pacer }),
    ...(options.generator === undefined ? {} : { generator: options.generator }),
  });

  const wallS = (performance.now() - started) / 1000;
  const after = ticks();
  const systemAfter = readSystemCpu();
  const rssPeakBytes = sampler.stop().get(target.pid) ?? Number.NaN;
  const callsAfter = await putRecordsCalls(observers.upstreamUrl);
  const logAfter = fileSize(target.logFile);
  if (target.logFile !== undefined && (logAfter ?? 0) > MAX_LOG_BYTES)
    truncateSync(target.logFile, 0);

  const percent = (delta: number): number => (delta / observers.clockTicks / wallS) * 100;
  const cpu = {
    target: percent(after.target - before.target),
    upstream: percent(after.upstream - before.upstream),
    redis: percent(after.redis - before.redis),
    load: percent(after.load - before.load),
  };
  const busy =
    systemBefore === undefined || systemAfter === undefined
      ? Number.NaN
      : percent(systemAfter.busy - systemBefore.busy);
  const disCalls = callsAfter - callsBefore;
  const targetCpuMs = ((after.target - before.target) / observers.clockTicks) * 1000;
  return {
    run,
    wallS,
    reqPerS: run.ok / run.durationS,
    cpu: { ...cpu, rest: Math.max(0, busy - cpu.target - cpu.upstream - cpu.redis - cpu.load) },
    cpuMsPerRequest: run.ok === 0 ? Number.NaN : targetCpuMs / run.ok,
    rssPeakBytes,
    disCalls,
    disCallsPer1k: run.responses === 0 ? Number.NaN : (disCalls / run.responses) * 1000,
    logBytesPerRequest:
      logBefore === undefined || logAfter === undefined || run.responses === 0
        ? undefined
        : (logAfter - logBefore) / run.responses,
  };
}

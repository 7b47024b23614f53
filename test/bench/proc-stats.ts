import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

// CPU and memory of a process from /proc (Linux only; no dependency): utime+stime from
// /proc/<pid>/stat (all threads: GC and libuv workers count too), VmRSS and VmHWM from
// /proc/<pid>/status, and the machine's busy time from /proc/stat so that load from other
// processes on the machine shows up in the results instead of silently skewing them.

export interface CpuReading {
  /** utime + stime in clock ticks; undefined once the process is gone. */
  readonly ticks: number | undefined;
}

/** Clock ticks per second of /proc's tick counters (almost always 100). */
export function clockTicksPerSecond(): number {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** utime + stime of a process in clock ticks (fields 14 and 15 of /proc/<pid>/stat), optionally with its waited-for children's. */
export function readCpuTicks(
  pid: number,
  options: { readonly children?: boolean } = {},
): number | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // The command name (field 2) may hold spaces and parentheses: fields are counted after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  // cutime + cstime (fields 16 and 17): children that exited and were waited for.
  const children = options.children === true ? Number(fields[13]) + Number(fields[14]) : 0;
  const total = utime + stime + children;
  return Number.isFinite(total) ? total : undefined;
}

export interface MemoryReading {
  /** Resident set size, bytes. */
  readonly rss: number;
  /** Peak resident set size over the process's life, bytes. */
  readonly hwm: number;
}

export function readMemory(pid: number): MemoryReading | undefined {
  const status = readText(`/proc/${pid}/status`);
  if (status === undefined) return undefined;
  const kib = (name: string): number | undefined => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
  };
  const rss = kib('VmRSS');
  const hwm = kib('VmHWM');
  return rss === undefined || hwm === undefined ? undefined : { rss, hwm };
}

export interface SystemCpu {
  /** Ticks the CPUs spent on anything but idle and iowait, summed over all CPUs. */
  readonly busy: number;
  readonly total: number;
}

export function readSystemCpu(): SystemCpu | undefined {
  const line = readText('/proc/stat')?.split('\n')[0];
  if (line?.startsWith('cpu ') !== true) return undefined;
  const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = values.reduce((sum, v) => sum + v, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

export interface MachineInfo {
  readonly cores: number;
  readonly model: string;
  readonly memoryBytes: number;
  readonly node: string;
  readonly platform: string;
  readonly kernel: string;
}

export function machineInfo(): MachineInfo {
  const cpuinfo = readText('/proc/cpuinfo') ?? '';
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpus()[0]?.model ?? '?';
  const kernel = readText('/proc/sys/kernel/osrelease')?.trim() ?? '?';
  return {
    cores: cpus().length,
    model,
    memoryBytes: totalmem(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    kernel,
  };
}

export interface RssSampler {
  /** The largest VmRSS seen per pid since start, bytes. */
  stop(): ReadonlyMap<number, number>;
}

/** Samples VmRSS of each pid every `intervalMs` (plus once at start and stop). */
export function startRssSampler(pids: readonly number[], intervalMs: number): RssSampler {
  const peaks = new Map<number, number>();
  const sample = (): void => {
    for (const pid of pids) {
      const rss = readMemory(pid)?.rss;
      if (rss !== undefined) peaks.set(pid, Math.max(peaks.get(pid) ?? 0, rss));
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return peaks;
    },
  };
}

// `npm run bench -- [flags]`: the benchmark's settings from its command line (pure, so it is easy to
// check by hand). Unknown flags are refused rather than ignored: a typo must not silently turn a
// 10-minute soak into a full benchmark.

import { GATEWAY_VARIANTS } from './gateway-setup.ts';

export interface BenchArgs {
  /** Seconds per measured repetition. */
  readonly durationS: number;
  readonly repetitions: number;
  readonly warmupS: number;
  readonly connections: number;
  /** Requests per second of the open-loop runs of single-event and webhook workloads. */
  readonly openRate: number;
  /** Workload names to run; empty means all. */
  readonly only: readonly string[];
  /** Seconds of soak at half the single-event maximum; undefined means no soak. */
  readonly soakS: number | undefined;
  /** Also capture a CPU profile of a gateway under the first workload's closed-loop load. */
  readonly profile: boolean;
  /** Which gateway variant `--profile` profiles (a label of GATEWAY_VARIANTS). */
  readonly profileVariant: string;
  /** Open-loop rate for the profile run; undefined: the closed loop. */
  readonly profileRate: number | undefined;
  readonly quick: boolean;
  /** What answers PutRecords: a minimal upstream (default) or the full DIS emulator. */
  readonly upstream: 'minimal' | 'emulator';
  /** How open loops pace requests: evenly spaced (default) or autocannon's per-second bursts. */
  readonly pacer: 'paced' | 'autocannon';
  /** Closed loops of a fixed request: wrk (default) or autocannon (to compare with older runs). */
  readonly generator: 'wrk' | 'autocannon';
}

export type ParsedArgs =
  | { readonly ok: true; readonly args: BenchArgs }
  | { readonly ok: false; readonly message: string };

export const USAGE = `usage: npm run bench -- [--quick] [--duration S] [--repetitions N] [--warmup S]
                      [--connections N] [--rate R] [--only a,b] [--soak S] [--profile]
                      [--profile-variant LABEL] [--profile-rate R]
                      [--upstream minimal|emulator] [--pacer paced|autocannon]
                      [--generator wrk|autocannon]
  --quick          1 x 3 s per cell after a 1 s warm-up (a smoke run)
  --duration S     seconds per repetition (default 10, max 120)
  --repetitions N  repetitions per cell (default 3, max 10)
  --warmup S       warm-up seconds per target and workload (default 3)
  --connections N  autocannon connections (default 64)
  --rate R         open-loop requests/s of the single-event workload (default 2000; 50-event: R/10)
  --only a,b       workloads: single, batch50, ndjson50, webhook (default: all)
  --soak S         soak S seconds (max 3600) at half the measured single-event maximum instead
                   of the full benchmark
  --profile        also profile a separate gateway under the closed loop of the first --only
                   workload (single by default)
  --profile-variant LABEL
                   the gateway variant --profile runs: gateway (default), gateway-batching-off
                   (every request makes its own DIS call: shows the per-call cost) or
                   gateway-linger-10ms
  --profile-rate R profile under an open loop of R requests/s instead of the closed loop
                   (where time goes at a fixed load, targets 3 and 4)
  --upstream U     minimal (default: answers PutRecords, spot-checks signatures) or emulator
                   (the full DIS emulator, throttling off; it limits the baseline on 2 cores)
  --pacer P        open loops: paced (default; evenly spaced requests) or autocannon (its
                   overallRate: every connection bursts at the start of each second)
  --generator G    closed loops of a fixed request: wrk (default; Debian's wrk, ~0.1 core) or
                   autocannon (a Node process taking most of a core: compresses every ratio)`;

export const WORKLOAD_NAMES = ['single', 'batch50', 'ndjson50', 'webhook'] as const;

function integer(flag: string, raw: string | undefined, min: number, max: number): number | string {
  if (raw === undefined || !/^\d+$/.test(raw)) return `${flag} needs a whole number`;
  const value = Number(raw);
  if (value < min || value > max) return `${flag} must be ${min}..${max}`;
  return value;
}

export function parseBenchArgs(argv: readonly string[]): ParsedArgs {
  let durationS: number | undefined;
  let repetitions: number | undefined;
  let warmupS: number | undefined;
  let connections = 64;
  let openRate = 2000;
  let only: string[] = [];
  let soakS: number | undefined;
  let profile = false;
  let profileVariant = 'gateway';
  let profileRate: number | undefined;
  let quick = false;
  let upstream: BenchArgs['upstream'] = 'minimal';
  let pacer: BenchArgs['pacer'] = 'paced';
  let generator: BenchArgs['generator'] = 'wrk';
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i] ?? '';
    const next = (): string | undefined => {
      i += 1;
      return argv[i];
    };
    let value: number | string | undefined;
    switch (flag) {
      case '--quick':
        quick = true;
        break;
      case '--profile':
        profile = true;
        break;
      case '--profile-variant':
        profileVariant = next() ?? '';
        profile = true;
        if (!GATEWAY_VARIANTS.some((v) => v.label === profileVariant)) {
          value = `--profile-variant takes ${GATEWAY_VARIANTS.map((v) => v.label).join(' or ')}`;
        }
        break;
      case '--profile-rate':
        value = integer(flag, next(), 1, 1_000_000);
        if (typeof value === 'number') profileRate = value;
        profile = true;
        break;
      case '--duration':
        value = integer(flag, next(), 1, 120);
        if (typeof value === 'number') durationS = value;
        break;
      case '--repetitions':
        value = integer(flag, next(), 1, 10);
        if (typeof value === 'number') repetitions = value;
        break;
      case '--warmup':
        value = integer(flag, next(), 0, 60);
        if (typeof value === 'number') warmupS = value;
        break;
      case '--connections':
        value = integer(flag, next(), 1, 1024);
        if (typeof value === 'number') connections = value;
        break;
      case '--rate':
        value = integer(flag, next(), 1, 1_000_000);
        if (typeof value === 'number') openRate = value;
        break;
      case '--soak':
        value = integer(flag, next(), 10, 3600);
        if (typeof value === 'number') soakS = value;
        break;
      case '--upstream': {
        const name = next();
        if (name === 'minimal' || name === 'emulator') upstream = name;
        else value = '--upstream takes minimal or emulator';
        break;
      }
      case '--pacer': {
        const name = next();
        if (name === 'paced' || name === 'autocannon') pacer = name;
        else value = '--pacer takes paced or autocannon';
        break;
      }
      case '--generator': {
        const name = next();
        if (name === 'wrk' || name === 'autocannon') generator = name;
        else value = '--generator takes wrk or autocannon';
        break;
      }
      case '--only': {
        only = (next() ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
        const unknown = only.filter((name) => !WORKLOAD_NAMES.some((w) => w === name));
        if (only.length === 0 || unknown.length > 0) {
          value = `--only takes a list of ${WORKLOAD_NAMES.join(', ')}`;
        }
        break;
      }
      default:
        value = `unknown flag ${JSON.stringify(flag)}`;
    }
    if (typeof value === 'string') return { ok: false, message: value };
  }
  return {
    ok: true,
    args: {
      durationS: durationS ?? (quick ? 3 : 10),
      repetitions: repetitions ?? (quick ? 1 : 3),
      warmupS: warmupS ?? (quick ? 1 : 3),
      connections,
      openRate,
      only,
      soakS,
      profile,
      profileVariant,
      profileRate,
      quick,
      upstream,
      pacer,
      generator,
    },
  };
}

import type { BenchArgs } from './args.ts';
import type { GatewayVariant } from './gateway-setup.ts';
import type { LoadRequest } from './load-protocol.ts';
import { measureWindow, type Observers } from './measure.ts';
import {
  formatProfile,
  monotonicMicros,
  newestProfile,
  summarizeProfile,
  type ProfileSummary,
} from './profile-summary.ts';
import type { Rig } from './services.ts';

// `--profile`: a separate gateway started with `node --cpu-prof`, warmed up and held under the
// closed loop of the first `--only` workload (or the open loop of `--profile-rate`) for one
// repetition, then stopped with SIGTERM so that V8 writes the profile on exit. Its figures are not
// used elsewhere: profiling slows it down.

export interface ProfileOutcome {
  readonly reqPerS: number;
  readonly summary: ProfileSummary | undefined;
  readonly note: string;
  readonly text: string;
}

export interface ProfileOptions {
  readonly rig: Rig;
  readonly variant: GatewayVariant;
  readonly observers: Observers;
  readonly workload: string;
  readonly request: LoadRequest;
  readonly args: BenchArgs;
  readonly root: string;
  readonly dir: string;
  readonly log: (line: string) => void;
}

export async function runProfile(options: ProfileOptions): Promise<ProfileOutcome> {
  const { rig, observers, args } = options;
  const startedAt = Date.now();
  const started = await rig.startGateway(options.variant, 'gateway-profile', [
    '--cpu-prof',
    `--cpu-prof-dir=${options.dir}`,
  ]);
  if (!('service' in started)) {
    return { reqPerS: Number.NaN, summary: undefined, note: started.reason, text: started.reason };
  }
  const { service } = started;
  const target = { label: 'gateway-profile', url: service.url, pid: service.pid };
  const rate = args.profileRate;
  const loop = rate === undefined ? 'closed loop' : `open loop ${rate} req/s`;
  options.log(`\nprofile: ${options.workload}, ${loop}, ${args.durationS} s on ${service.url}`);
  const load = {
    request: options.request,
    connections: args.connections,
    rate,
    pacer: args.pacer,
  };
  if (args.warmupS > 0) {
    await observers.load.run({
      url: service.url,
      request: load.request,
      connections: load.connections,
      durationS: args.warmupS,
      pacer: args.pacer,
      ...(rate === undefined ? {} : { rate }),
    });
  }
  const startUs = monotonicMicros();
  const window = await measureWindow(observers, target, { ...load, durationS: args.durationS });
  const endUs = monotonicMicros();
  await service.stop(15_000);
  const file = newestProfile(options.dir, startedAt);
  const summary =
    file === undefined ? undefined : summarizeProfile(file, options.root, 15, { startUs, endUs });
  const note =
    `${options.variant.label} under --cpu-prof did ${window.reqPerS.toFixed(0)} req/s (${options.workload}, ${loop}, ` +
    `profiling overhead included); ${file === undefined ? 'no profile was written' : `profile ${file}`}`;
  return {
    reqPerS: window.reqPerS,
    summary,
    note,
    text: summary === undefined ? note : formatProfile(summary),
  };
}

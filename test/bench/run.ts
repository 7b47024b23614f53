import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mintToken } from '../../src/auth/mint-token.ts';
import { minimalEnv } from '../helpers/process-gateway.ts';
import { parseBenchArgs, USAGE, type BenchArgs } from './args.ts';
import { withRatios, type Cell } from './cells.ts';
import {
  GATEWAY_VARIANTS,
  JWT_AUDIENCE,
  JWT_ISSUER,
  LOGICAL_STREAM,
  WEBHOOK_SOURCE,
} from './gateway-setup.ts';
import { startLoadClient } from './load-client.ts';
import { ensureWrk } from './wrk-install.ts';
import type { Observers } from './measure.ts';
import { createProcessSet } from './processes.ts';
import { clockTicksPerSecond, machineInfo } from './proc-stats.ts';
import { runProfile, type ProfileOutcome } from './profile.ts';
import {
  formatMarkdown,
  formatSoak,
  formatSupport,
  formatTargets,
  formatText,
  machineLine,
} from './report.ts';
import { estimateSeconds, planCells, runCells } from './run-cells.ts';
import { gatewayCounters, type Counters } from './scrape.ts';
import { startRig, type Rig } from './services.ts';
import { runSoak, type SoakResult } from './soak.ts';
import { evaluateTargets, targetVerdicts } from './targets.ts';
import { EVENT_BYTES, workloads, type RequestContext } from './workloads.ts';

// `npm run bench`: the composition root of the benchmark (issue #6 §1). Starts Redis, the DIS
// emulator, the baseline and the gateway(s), drives load from a child process, and writes a table
// to stdout plus bench-results/bench-<timestamp>.json, latest.json and latest.md (a soak writes
// soak-<timestamp>.json, latest-soak.json and latest-soak.md, so it never replaces the full table).

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS = join(ROOT, 'bench-results');

/** Busy time outside the measured processes above this (% of one core) marks a cell as disturbed. */
const DISTURBED_REST_PERCENT = 20;

function disturbed(cells: readonly Cell[]): string[] {
  const names = cells
    .filter((c) => c.summary.restCpuPercent.max > DISTURBED_REST_PERCENT)
    .map(
      (c) =>
        `${c.workload}/${c.mode}/${c.target} (up to ${c.summary.restCpuPercent.max.toFixed(0)}%)`,
    );
  return names.length === 0
    ? []
    : [
        `other load on the machine (busy CPU outside the measured processes > ${DISTURBED_REST_PERCENT}% of a core) during: ${names.join(', ')}; rerun for cleaner figures`,
      ];
}

const log = (line: string): void => {
  console.log(line);
};

async function main(args: BenchArgs): Promise<void> {
  mkdirSync(join(RESULTS, 'profiles'), { recursive: true });
  const startedAt = new Date();
  const machine = machineInfo();
  const clockTicks = clockTicksPerSecond();
  const processes = createProcessSet();
  let rig: Rig | undefined;
  const cleanup = async (): Promise<void> => {
    await processes.stopAll();
    await rig?.redis.stop();
  };
  process.once('exit', () => {
    processes.killAll();
  });
  let stopping = false;
  const onSignal = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.error(`\nbench: ${signal}, stopping every process`);
    void cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    log(`bench: ${machineLine(machine)}`);
    if (args.generator === 'wrk') ensureWrk(log);
    rig = await startRig(processes, RESULTS, args.upstream);
    const load = await startLoadClient(processes, minimalEnv());
    for (const s of rig.skipped) log(`bench: ${s.variant.label} not measured: ${s.reason}`);
    const observers: Observers = {
      load,
      upstreamUrl: rig.upstream.url,
      upstreamPid: rig.upstream.pid,
      redisPid: rig.redisPid,
      clockTicks,
    };
    const context: RequestContext = {
      token: mintToken({
        secret: rig.jwtSecret,
        issuer: JWT_ISSUER,
        audience: JWT_AUDIENCE,
        subject: 'bench',
        scopes: ['dis:write:*'],
        lifetimeS: 86_400,
        now: Date.now(),
      }),
      stream: LOGICAL_STREAM,
      webhookSource: WEBHOOK_SOURCE,
      webhookSecret: rig.webhookSecret,
    };
    const list = workloads(args);
    const gateway = rig.gateways.find((g) => g.variant.label === 'gateway');
    if (gateway === undefined) throw new Error('no gateway');
    const gatewayTarget = {
      label: 'gateway',
      url: gateway.service.url,
      pid: gateway.service.pid,
      logFile: gateway.service.logFile,
    };
    const singleRequest = workloads({ ...args, only: ['single'] })[0]?.request(context);
    if (singleRequest === undefined) throw new Error('no single-event workload');

    let cells: Cell[] = [];
    let soak: SoakResult | undefined;
    if (args.soakS === undefined) {
      const plans = planCells(rig, list);
      log(
        `bench: ${plans.length} cells, about ${Math.ceil(estimateSeconds(plans, args) / 60)} min`,
      );
      cells = withRatios(await runCells(plans, observers, context, args, log));
    } else {
      soak = await runSoak(observers, gatewayTarget, {
        request: singleRequest,
        connections: args.connections,
        warmupS: args.warmupS,
        calibrationS: Math.min(args.durationS, 10),
        soakS: args.soakS,
        clockTicks,
        pacer: args.pacer,
        log,
      });
    }
    let profile: ProfileOutcome | undefined;
    if (args.profile) {
      const variant = GATEWAY_VARIANTS.find((v) => v.label === args.profileVariant);
      if (variant === undefined) throw new Error(`no gateway variant ${args.profileVariant}`);
      // The first workload of --only (single by default).
      const profiled = list[0];
      if (profiled === undefined) throw new Error('no workload to profile');
      profile = await runProfile({
        rig,
        variant,
        observers,
        workload: profiled.name,
        request: profiled.request(context),
        args,
        root: ROOT,
        dir: join(RESULTS, 'profiles'),
        log,
      });
    }
    const counters: Record<string, Counters> = {};
    for (const g of rig.gateways) counters[g.variant.label] = await gatewayCounters(g.service.url);

    const targets = evaluateTargets(cells, soak, args.openRate);
    const notes = [
      `${args.repetitions} x ${args.durationS} s per cell after ${args.warmupS} s warm-up, ${args.connections} connections; figures are medians (min-max over repetitions); event ${EVENT_BYTES} bytes of JSON`,
      'CPU % is of one core (utime+stime from /proc over the window); latency from a microsecond histogram of 2xx answers in the load generator',
      `upstream: ${args.upstream === 'minimal' ? 'minimal PutRecords responder (test/bench/minimal-upstream.ts; signatures spot-checked)' : 'DIS emulator, throttling off'}; open loops: ${args.pacer === 'paced' ? 'evenly spaced requests (test/bench/load-open.ts)' : "autocannon overallRate (bursts at each second's start)"}`,
      ...rig.gateways.map(
        (g) =>
          `${g.variant.label}: ingest config ${g.ingest === undefined ? 'none (no ingest section)' : JSON.stringify(g.ingest)}; counters ${JSON.stringify(counters[g.variant.label])}`,
      ),
      ...rig.skipped.map((s) => `${s.variant.label}: not measured (${s.reason})`),
      ...disturbed(cells),
      ...(profile === undefined ? [] : [`profile: ${profile.note}`]),
    ];
    const finishedAt = new Date();
    const settings = `npm run bench${process.argv.slice(2).length > 0 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
    const result = {
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      command: settings,
      args,
      machine,
      clockTicks,
      eventBytes: EVENT_BYTES,
      gateways: rig.gateways.map((g) => ({
        label: g.variant.label,
        title: g.variant.title,
        ingest: g.ingest,
        counters: counters[g.variant.label],
      })),
      skipped: rig.skipped.map((s) => ({ label: s.variant.label, reason: s.reason })),
      cells,
      targets,
      verdicts: targetVerdicts(targets),
      soak,
      profile,
      notes,
    };
    const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
    const json = JSON.stringify(result, null, 2);
    const kind =
      soak === undefined
        ? { prefix: 'bench', latest: 'latest' }
        : { prefix: 'soak', latest: 'latest-soak' };
    writeFileSync(join(RESULTS, `${kind.prefix}-${stamp}.json`), json);
    writeFileSync(join(RESULTS, `${kind.latest}.json`), json);
    const md = formatMarkdown({
      machine,
      when: startedAt.toISOString().slice(0, 16).replace('T', ' '),
      settings: `\`${settings}\``,
      cells,
      targets,
      notes,
      soak,
    });
    writeFileSync(join(RESULTS, `${kind.latest}.md`), md);

    log('');
    if (cells.length > 0) log(`${formatText(cells)}\n\n${formatSupport(cells)}\n`);
    if (soak !== undefined) log(`${formatSoak(soak)}\n`);
    if (profile !== undefined) log(`${profile.text}\n`);
    log(`targets (issue #14 §2):\n${formatTargets(targets)}\n`);
    for (const note of notes) log(`- ${note}`);
    log(
      `\nbench: wrote bench-results/${kind.prefix}-${stamp}.json, ${kind.latest}.json, ${kind.latest}.md`,
    );
  } finally {
    await cleanup();
  }
}

const parsed = parseBenchArgs(process.argv.slice(2));
if (!parsed.ok) {
  console.error(`bench: ${parsed.message}\n${USAGE}`);
  process.exitCode = 2;
} else {
  try {
    await main(parsed.args);
  } catch (error) {
    console.error('bench: failed:', error);
    process.exitCode = 1;
  }
}

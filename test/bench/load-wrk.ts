import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunCommand, RunResult } from './load-protocol.ts';

// Closed loops with wrk (Debian's `wrk`, a C load generator: ~10–18 % of a core where autocannon
// takes most of one on this 2-core machine and so compresses every ratio). One static request,
// 2 threads, the command's connections; wrk's Lua `done` hook prints one JSON line with the counts
// and latency percentiles (microseconds), which is all this reads of its output. wrk runs as a
// child of the load process, so its CPU lands in the load process's children time (proc-stats).

const MARK = 'WRK_JSON ';

/** A Lua long string that cannot end early, whatever the text holds. */
function luaString(text: string): string {
  let level = 0;
  while (text.includes(`]${'='.repeat(level)}]`)) level += 1;
  const eq = '='.repeat(level);
  // A long string drops a newline right after its opening bracket: start with one of our own.
  return `[${eq}[\n${text}]${eq}]`;
}

function script(headers: Readonly<Record<string, string>>, body: string): string {
  const lines = [
    'wrk.method = "POST"',
    `wrk.body = ${luaString(body)}`,
    ...Object.entries(headers).map(
      ([name, value]) => `wrk.headers[ ${luaString(name)} ] = ${luaString(value)}`,
    ),
    'done = function(summary, latency, requests)',
    '  local e = summary.errors',
    `  io.write(string.format("${MARK}{\\"duration_us\\":%d,\\"requests\\":%d,\\"connect\\":%d,\\"read\\":%d,\\"write\\":%d,\\"status\\":%d,\\"timeout\\":%d,\\"p50\\":%d,\\"p90\\":%d,\\"p99\\":%d,\\"p999\\":%d,\\"mean\\":%f,\\"max\\":%d}\\n",`,
    '    summary.duration, summary.requests, e.connect, e.read, e.write, e.status, e.timeout,',
    '    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),',
    '    latency.mean, latency.max))',
    'end',
  ];
  return `${lines.join('\n')}\n`;
}

interface WrkSummary {
  readonly duration_us: number;
  readonly requests: number;
  readonly connect: number;
  readonly read: number;
  readonly write: number;
  readonly status: number;
  readonly timeout: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly mean: number;
  readonly max: number;
}

export async function runWrk(command: RunCommand): Promise<RunResult> {
  const { request } = command;
  if (request.kind !== 'static') throw new Error('wrk runs static requests only');
  const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
  const file = join(dir, 'request.lua');
  writeFileSync(file, script(request.headers, request.body));
  try {
    const args = [
      '-t2',
      `-c${String(command.connections)}`,
      `-d${String(command.durationS)}s`,
      '--timeout',
      '10s',
      '-s',
      file,
      new URL(request.path, command.url).toString(),
    ];
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
      child.on('error', reject);
      child.on('exit', (code) => {
        if (code === 0) resolve(out);
        else reject(new Error(`wrk exited ${String(code)}: ${err.trim() || out.trim()}`));
      });
    });
    const line = output.split('\n').find((l) => l.startsWith(MARK));
    if (line === undefined) throw new Error(`wrk printed no summary:\n${output}`);
    const s = JSON.parse(line.slice(MARK.length)) as WrkSummary;
    const errors = s.connect + s.read + s.write + s.timeout;
    const ms = (micros: number): number => micros / 1000;
    return {
      generator: 'wrk',
      durationS: s.duration_us / 1e6,
      responses: s.requests,
      ok: s.requests - s.status,
      non2xx: s.status,
      errors,
      timeouts: s.timeout,
      // wrk counts answers ≥ 400 only as a total.
      statusCodes:
        s.status === 0
          ? { '2xx': s.requests }
          : { '2xx': s.requests - s.status, '4xx/5xx': s.status },
      latency: {
        p50: ms(s.p50),
        p90: ms(s.p90),
        p99: ms(s.p99),
        p999: ms(s.p999),
        mean: ms(s.mean),
        max: ms(s.max),
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

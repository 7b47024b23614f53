import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Cleanup } from './cleanup.ts';
import { within } from './wait.ts';

// Runs the real entry point (`node src/main.ts`) as a child process. The child gets only the
// environment a test hands it (plus PATH and HOME), never this process's: the test runner's own
// variables (NODE_TEST_CONTEXT, NODE_OPTIONS) would change how the child behaves.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const LISTENING = /listening on (http:\/\/[^\s"]+)/;

// If this process dies without stopping its gateways (crash, runner timeout, SIGKILL) the 'exit'
// hook does not run; this sibling notices within half a second and kills the orphan. It leaves
// on its own once the gateway is gone, and never touches the gateway while this process lives.
const WATCHDOG = `
while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 0.5; done
if ! kill -0 "$1" 2>/dev/null; then kill -KILL "$2" 2>/dev/null; fi
`;

export type ProcessEnv = Readonly<Record<string, string>>;

/** PATH and HOME from this process, then the test's variables: nothing else leaks in. */
export function minimalEnv(extra: ProcessEnv = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

interface Launched {
  readonly child: ChildProcess;
  readonly exited: Promise<ProcessExit>;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Called with the text so far whenever stdout grows. */
  readonly onStdout: (listener: (text: string) => void) => void;
}

function launch(env: ProcessEnv, args: readonly string[]): Launched {
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd: ROOT,
    env: minimalEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const listeners: ((text: string) => void)[] = [];
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    out += chunk;
    for (const listener of listeners) listener(out);
  });
  child.stderr.on('data', (chunk: string) => {
    err += chunk;
  });
  const onExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', onExit);
  const exited = new Promise<ProcessExit>((resolve) => {
    // 'close' (not 'exit') so that every byte of output has been read.
    child.once('close', (code, signal) => {
      process.removeListener('exit', onExit);
      resolve({ code, signal });
    });
    child.once('error', () => {
      process.removeListener('exit', onExit);
      resolve({ code: null, signal: null });
    });
  });
  if (child.pid !== undefined) {
    spawn('sh', ['-c', WATCHDOG, 'gateway-watchdog', String(process.pid), String(child.pid)], {
      detached: true,
      stdio: 'ignore',
    }).unref();
  }
  return {
    child,
    exited,
    stdout: () => out,
    stderr: () => err,
    onStdout: (listener) => listeners.push(listener),
  };
}

export interface RunOptions {
  readonly env: ProcessEnv;
  readonly args?: readonly string[];
  readonly timeoutMs?: number;
}

export interface RunResult extends ProcessExit {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node src/main.ts …` to its end (check-config, a start that must fail); kills it after timeoutMs. */
export async function runMain(options: RunOptions): Promise<RunResult> {
  const run = launch(options.env, options.args ?? []);
  const timeoutMs = options.timeoutMs ?? 15_000;
  try {
    const exit = await within(run.exited, timeoutMs, 'node src/main.ts');
    return { ...exit, stdout: run.stdout(), stderr: run.stderr() };
  } catch (error) {
    run.child.kill('SIGKILL');
    await run.exited;
    throw new Error(`${String(error)}\nstdout:\n${run.stdout()}\nstderr:\n${run.stderr()}`, {
      cause: error,
    });
  }
}

export interface GatewayProcess {
  /** The URL from the "listening on <url>" line. */
  readonly url: string;
  readonly child: ChildProcess;
  readonly exited: Promise<ProcessExit>;
  stdout(): string;
  stderr(): string;
  /**
   * Sends the signal (default SIGTERM) and resolves with the exit code (null when a signal ended
   * it). After timeoutMs it kills the process and rejects. Safe to call again: later calls only
   * wait for the same exit.
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

/**
 * Starts `node src/main.ts` and resolves once it has printed its "listening on <url>" line. The
 * test's cleanup SIGKILLs it, so a failing test leaves no gateway behind; a test that asserts on a
 * clean exit stops it itself first.
 */
export async function spawnGateway(t: Cleanup, options: RunOptions): Promise<GatewayProcess> {
  const run = launch(options.env, options.args ?? []);
  const timeoutMs = options.timeoutMs ?? 15_000;
  const listening = new Promise<string>((resolve, reject) => {
    run.onStdout((text) => {
      const url = LISTENING.exec(text)?.[1];
      if (url !== undefined) resolve(url);
    });
    void run.exited.then((exit) => {
      reject(new Error(`the gateway exited before listening (${JSON.stringify(exit)})`));
    });
  });

  let stopping: Promise<number | null> | undefined;
  const stop = (signal: NodeJS.Signals = 'SIGTERM', stopTimeoutMs = 10_000) => {
    stopping ??= (async () => {
      if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill(signal);
      try {
        return (await within(run.exited, stopTimeoutMs, `the gateway's exit after ${signal}`)).code;
      } catch (error) {
        run.child.kill('SIGKILL');
        await run.exited;
        throw error;
      }
    })();
    return stopping;
  };

  let url: string;
  try {
    url = await within(listening, timeoutMs, 'the gateway start');
  } catch (error) {
    await stop('SIGKILL').catch(() => undefined);
    throw new Error(`${String(error)}\nstdout:\n${run.stdout()}\nstderr:\n${run.stderr()}`, {
      cause: error,
    });
  }
  t.after(() => stop('SIGKILL').catch(() => undefined));
  return {
    url,
    child: run.child,
    exited: run.exited,
    stdout: run.stdout,
    stderr: run.stderr,
    stop,
  };
}

/**
 * Starts one gateway per entry, all at once; resolves with them in order once every one listens.
 * If any fails to start, it rejects with the first failure, and the ones that did start are
 * still stopped by the test's cleanup.
 */
export async function spawnGateways(
  t: Cleanup,
  runs: readonly RunOptions[],
): Promise<GatewayProcess[]> {
  const started = await Promise.allSettled(runs.map((options) => spawnGateway(t, options)));
  return started.map((result) => {
    if (result.status === 'rejected') throw result.reason;
    return result.value;
  });
}

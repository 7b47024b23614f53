import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

// Every process the benchmark starts, in one set, so that all of them end with it: on a normal end
// (stopAll), on an error or Ctrl-C (run.ts calls stopAll, then killAll from the 'exit' hook), and
// even when the benchmark itself is SIGKILLed (a shell watchdog per child kills the orphan).

const WATCHDOG = `
while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 0.5; done
if ! kill -0 "$1" 2>/dev/null; then kill -KILL "$2" 2>/dev/null; fi
`;

export interface ServiceOptions {
  readonly name: string;
  /** Arguments to `node` (flags, script, script arguments). */
  readonly nodeArgs: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** stdout and stderr go here (truncated first); the ready line is looked for in it. */
  readonly logFile: string;
  /** Matches the ready line; group 1 is the service's URL. */
  readonly ready: RegExp;
  readonly timeoutMs: number;
}

export interface Service {
  readonly name: string;
  readonly pid: number;
  readonly url: string;
  readonly logFile: string;
  readonly child: ChildProcess;
  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves once the process has exited. */
  stop(timeoutMs?: number): Promise<void>;
}

export interface ProcessSet {
  spawnService(options: ServiceOptions): Promise<Service>;
  /** Adds a child started elsewhere (the load generator) to the set. */
  adopt(name: string, child: ChildProcess): void;
  stopAll(): Promise<void>;
  /** Synchronous SIGKILL of everything still running: for the 'exit' hook. */
  killAll(): void;
}

function exitedPromise(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    child.once('exit', () => {
      resolve();
    });
    child.once('error', () => {
      resolve();
    });
  });
}

function readTail(path: string, bytes: number): string {
  try {
    return readFileSync(path, 'utf8').slice(-bytes);
  } catch {
    return '';
  }
}

export function createProcessSet(): ProcessSet {
  const children = new Map<ChildProcess, { name: string; exited: Promise<void> }>();

  const stopChild = async (child: ChildProcess, timeoutMs: number): Promise<void> => {
    const entry = children.get(child);
    if (entry === undefined) return;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timeout = new AbortController();
    const done = await Promise.race([
      entry.exited.then(() => true),
      sleep(timeoutMs, false, { signal: timeout.signal }).catch(() => false),
    ]);
    timeout.abort();
    if (!done) {
      child.kill('SIGKILL');
      await entry.exited;
    }
    children.delete(child);
  };

  const adopt = (name: string, child: ChildProcess): void => {
    children.set(child, { name, exited: exitedPromise(child) });
    if (child.pid !== undefined) {
      spawn('sh', ['-c', WATCHDOG, `${name}-watchdog`, String(process.pid), String(child.pid)], {
        detached: true,
        stdio: 'ignore',
      }).unref();
    }
  };

  const spawnService = async (options: ServiceOptions): Promise<Service> => {
    const fd = openSync(options.logFile, 'w');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [...options.nodeArgs], {
        env: { ...options.env },
        stdio: ['ignore', fd, fd],
      });
    } finally {
      // The child holds its own copy of the descriptor.
      closeSync(fd);
    }
    adopt(options.name, child);
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const url = options.ready.exec(readTail(options.logFile, 64 * 1024))?.[1];
      if (url !== undefined && child.pid !== undefined) {
        const { pid } = child;
        return {
          name: options.name,
          pid,
          url,
          logFile: options.logFile,
          child,
          stop: (timeoutMs = 10_000) => stopChild(child, timeoutMs),
        };
      }
      const exited = child.exitCode !== null || child.signalCode !== null;
      if (exited || Date.now() > deadline) {
        await stopChild(child, 1000);
        throw new Error(
          `${options.name} ${exited ? 'exited' : 'did not start'} (log ${options.logFile}):\n` +
            readTail(options.logFile, 2000),
        );
      }
      await sleep(50);
    }
  };

  return {
    spawnService,
    adopt,
    stopAll: async () => {
      // In reverse order of start: the gateway before the DIS it talks to.
      for (const child of [...children.keys()].reverse()) await stopChild(child, 10_000);
    },
    killAll: () => {
      for (const child of children.keys()) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    },
  };
}

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LoadReply, type RunCommand, type RunResult } from './load-protocol.ts';
import type { ProcessSet } from './processes.ts';

// The parent's side of the load generator: forks test/bench/load.ts once and sends it one run at a
// time. Every run is bounded: a run that does not answer within its duration plus a margin fails.

const LOAD_SCRIPT = fileURLToPath(new URL('./load.ts', import.meta.url));

export interface LoadClient {
  readonly pid: number;
  run(command: Omit<RunCommand, 'type' | 'id'>): Promise<RunResult>;
}

export async function startLoadClient(
  processes: ProcessSet,
  env: Readonly<Record<string, string>>,
): Promise<LoadClient> {
  const child = fork(LOAD_SCRIPT, [], {
    env: { ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // Structured clone: NaN (no answers, no latency) survives the trip, JSON would make it null.
    serialization: 'advanced',
  });
  processes.adopt('load', child);
  const waiting = new Map<number, (reply: LoadReply) => void>();
  let onReady: (() => void) | undefined;
  child.on('message', (message: unknown) => {
    const parsed = LoadReply.safeParse(message);
    if (!parsed.success) return;
    const reply = parsed.data;
    if (reply.type === 'ready') onReady?.();
    else waiting.get(reply.id)?.(reply);
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error('the load generator did not start in 15 s'));
    }, 15_000);
    onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error('the load generator exited during start'));
    });
  });
  const { pid } = child;
  if (pid === undefined) throw new Error('the load generator has no pid');

  let nextId = 1;
  return {
    pid,
    run: (command) => {
      const id = nextId++;
      return new Promise<RunResult>((resolve, reject) => {
        const timer = setTimeout(
          () => {
            waiting.delete(id);
            reject(new Error(`load run ${id} did not finish in time`));
          },
          (command.durationS + 30) * 1000,
        );
        waiting.set(id, (reply) => {
          clearTimeout(timer);
          waiting.delete(id);
          if (reply.type === 'done') resolve(reply.result);
          else
            reject(
              new Error(`load run ${id} failed: ${reply.type === 'failed' ? reply.message : ''}`),
            );
        });
        child.send({ ...command, type: 'run', id });
      });
    },
  };
}

import { DEV_CREDENTIALS, createEmulator } from '../../src/emulator/emulator.ts';
import type { Emulator, EmulatorOptions } from '../../src/emulator/emulator.ts';
import { plainRequest, signedRequest } from './signed-request.ts';
import type { HttpResult, PlainCall } from './signed-request.ts';

export interface TestClock {
  readonly now: () => number;
  readonly advance: (ms: number) => void;
}

/** A clock that moves only when told to. */
export function createTestClock(start = Date.UTC(2024, 2, 15, 8, 30, 0)): TestClock {
  let now = start;
  return {
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
  };
}

export interface Harness {
  readonly emulator: Emulator;
  readonly clock: TestClock;
  /** `/v2/{project_id}` + rest, signed with the dev credentials at the emulator clock's time. */
  dis(rest: string, call?: PlainCall): Promise<HttpResult>;
  /** Unsigned request to any path of the emulator. */
  raw(path: string, call?: PlainCall): Promise<HttpResult>;
  close(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Harness> {
  const clock = createTestClock();
  const emulator = await createEmulator({ clock: clock.now, ...options });
  const now = options.clock ?? clock.now;
  const credentials = DEV_CREDENTIALS[0];
  if (credentials === undefined) throw new Error('no dev credentials');
  return {
    emulator,
    clock,
    dis: (rest, call = {}) =>
      signedRequest(`${emulator.url}/v2/${emulator.projectId}${rest}`, {
        ...call,
        credentials: options.credentials?.[0] ?? credentials,
        date: new Date(now()),
        projectId: emulator.projectId,
      }),
    raw: (path, call) => plainRequest(`${emulator.url}${path}`, call),
    close: () => emulator.close(),
  };
}

/** Base64 of a UTF-8 string. */
export function b64(text: string | Buffer): string {
  return Buffer.from(text).toString('base64');
}

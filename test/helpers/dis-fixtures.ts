import { randomBytes } from 'node:crypto';
import { createDisClient, type DisClient, type DisClientOptions } from '../../src/dis/client.ts';
import { createDisManagementClient, type DisManagementClient } from '../../src/dis/management.ts';
import {
  DEV_CREDENTIALS,
  createEmulator,
  type Emulator,
  type EmulatorOptions,
} from '../../src/emulator/emulator.ts';

/** Deterministic [0, 1) draws (mulberry32), so share-based faults behave the same every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let streamCounter = 0;
/** A stream name no other test uses. */
export function uniqueStreamName(prefix = 'test'): string {
  streamCounter += 1;
  return `${prefix}-${process.pid}-${streamCounter}-${randomBytes(3).toString('hex')}`;
}

export interface ClientAndEmulator {
  readonly emulator: Emulator;
  readonly client: DisClient;
  /** Creates, describes, lists, deletes and reads streams over HTTP, as DIS's own API does. */
  readonly management: DisManagementClient;
  /** Another client on the same emulator. */
  readonly clientWith: (overrides: Partial<DisClientOptions>) => DisClient;
  close(): Promise<void>;
}

const devCredentials = DEV_CREDENTIALS[0];

/** An emulator on a free loopback port and clients signing with the emulator's dev AK/SK. */
export async function startClientAndEmulator(
  emulatorOptions: EmulatorOptions = {},
  clientOptions: Partial<DisClientOptions> = {},
): Promise<ClientAndEmulator> {
  if (devCredentials === undefined) throw new Error('emulator has no dev credentials');
  const emulator = await createEmulator(emulatorOptions);
  const clients: DisClient[] = [];
  const clientWith = (overrides: Partial<DisClientOptions>): DisClient => {
    const client = createDisClient({
      endpoint: emulator.url,
      projectId: emulator.projectId,
      auth: { type: 'aksk', credentials: devCredentials },
      backoff: { initialDelayMs: 10, maxDelayMs: 200 },
      ...clientOptions,
      ...overrides,
    });
    clients.push(client);
    return client;
  };
  const client = clientWith({});
  const management = createDisManagementClient({
    endpoint: emulator.url,
    projectId: emulator.projectId,
    auth: { type: 'aksk', credentials: devCredentials },
    backoff: { initialDelayMs: 10, maxDelayMs: 200 },
  });
  return {
    emulator,
    client,
    management,
    clientWith,
    close: async () => {
      await Promise.all([...clients.map((c) => c.close()), management.close()]);
      await emulator.close();
    },
  };
}

/** Base64 entries whose data is unique per index, so a stored record identifies its input. */
export function uniqueEntries(count: number, size = 48): { data: string }[] {
  return Array.from({ length: count }, (_, i) => {
    const tag = Buffer.from(`rec-${i}-`);
    return {
      data: Buffer.concat([tag, randomBytes(Math.max(0, size - tag.length))]).toString('base64'),
    };
  });
}

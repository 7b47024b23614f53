import { z } from 'zod';
import { createEmulator } from '../../src/emulator/emulator.ts';
import { exitOnSignal } from './exit-on-signal.ts';

// The benchmark's DIS: the emulator in its own process (so its CPU is measured apart from the
// gateway's), with throttling off so DIS's per-partition write limits never answer DIS.4303, and a
// small retention so its memory stays flat however long the run. `npm run emulator` offers neither
// option, hence this entry point. Usage: node test/bench/upstream.ts '<json settings>'.

const Settings = z.object({
  projectId: z.string(),
  credentials: z.array(z.object({ ak: z.string(), sk: z.string() })).min(1),
  streams: z.array(
    z.object({
      name: z.string(),
      partitions: z.number().int().positive(),
      type: z.enum(['COMMON', 'ADVANCED']),
    }),
  ),
});

const settings = Settings.parse(JSON.parse(process.argv[2] ?? '{}'));
const emulator = await createEmulator({
  host: '127.0.0.1',
  port: 0,
  projectId: settings.projectId,
  credentials: settings.credentials,
  streams: settings.streams,
  throttling: false,
  retention: { maxAgeMs: 60_000, maxRecordsPerPartition: 2_000 },
});
exitOnSignal(() => emulator.close());
// Only once a signal can stop it cleanly: the benchmark may signal as soon as it reads this line.
console.log(`bench upstream (DIS emulator) listening on ${emulator.url}`);

import { readFileSync } from 'node:fs';
import { ADMIN_PREFIX } from './admin.ts';
import { createEmulator } from './emulator.ts';
import { parseEmulatorEnv } from './env.ts';

// Composition root of the standalone emulator (`npm run emulator`): the only emulator file that reads
// process.env, prints, installs signal handlers or sets the exit code.

const parsed = parseEmulatorEnv(process.env, (path) => readFileSync(path, 'utf8'));
if (!parsed.ok) {
  console.error(
    `dis-emulator: invalid configuration\n${parsed.problems.map((p) => `  - ${p}`).join('\n')}`,
  );
  process.exit(1);
}
const { config } = parsed;

try {
  const emulator = await createEmulator({
    host: config.host,
    port: config.port,
    region: config.region,
    projectId: config.projectId,
    credentials: config.credentials,
    streams: config.streams,
  });
  const aks = config.credentials.map((c) => c.ak).join(', ');
  console.log(
    [
      `dis-emulator listening on ${emulator.url}`,
      `  region ${config.region}, project id ${config.projectId}, AK ${aks}`,
      `  streams: ${config.streams.map((s) => `${s.name} (${s.partitions} ${s.type})`).join(', ') || 'none'}`,
      `  admin API: ${emulator.url}${ADMIN_PREFIX}/faults, ${emulator.url}${ADMIN_PREFIX}/stats`,
    ].join('\n'),
  );
  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    console.log(`dis-emulator: ${signal}, closing`);
    emulator.close().then(
      () => {
        process.exitCode = 0;
      },
      (error: unknown) => {
        console.error('dis-emulator: close failed', error);
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
} catch (error) {
  console.error(`dis-emulator: cannot listen on ${config.host}:${config.port}:`, error);
  process.exit(1);
}

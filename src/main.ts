import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runDeadLettersCommand } from './cli/dead-letters-command.ts';
import { runSendWebhookCommand } from './cli/send-webhook-command.ts';
import type { SpoolAdminIo } from './cli/spool-admin.ts';
import { runSpoolConsumersCommand } from './cli/spool-consumers-command.ts';
import { runTokenCommand } from './cli/token-command.ts';
import { runConfigCheck } from './config/check-command.ts';
import { formatProblems, loadConfig } from './config/load-config.ts';
import { composeGateway, StartupRefusedError, type DevInfo } from './compose.ts';
import { openSpoolAdmin } from './compose-spool-admin.ts';
import { createGatewayServer } from './http/server.ts';
import { createShutdown, type DrainState } from './lifecycle/shutdown.ts';
import { createLogger, devPrettyStream } from './observability/logger.ts';

// The composition root: the only module that reads process.env, listens, installs signal handlers
// and exits. `node src/main.ts` runs the gateway; subcommands: `check-config` (validate, print with
// secrets redacted), `token` (mint a dev JWT), `send-webhook` (a signed test delivery),
// `dead-letters` and `spool-consumers` (the spool's dead letters and forwarder group).

const readFile = (path: string): string => readFileSync(path, 'utf8');

/** package.json's version, read once here so that compose never reads files. */
function readVersion(): string {
  const parsed: unknown = JSON.parse(
    readFile(fileURLToPath(new URL('../package.json', import.meta.url))),
  );
  const version =
    typeof parsed === 'object' && parsed !== null && 'version' in parsed
      ? parsed.version
      : undefined;
  return typeof version === 'string' ? version : 'unknown';
}

const write = (line: string): void => {
  console.log(line);
};
const spoolAdminIo: SpoolAdminIo = {
  env: process.env,
  readFile,
  write,
  warn: (line) => {
    console.error(line);
  },
  openSpool: openSpoolAdmin,
};
const command = process.argv[2];
if (command === 'check-config') {
  process.exitCode = runConfigCheck(process.env, readFile, write);
} else if (command === 'token') {
  process.exitCode = runTokenCommand(process.argv.slice(3), {
    env: process.env,
    readFile,
    write,
    warn: (line) => {
      console.error(line);
    },
    now: Date.now,
  });
} else if (command === 'send-webhook') {
  process.exitCode = await runSendWebhookCommand(process.argv.slice(3), {
    env: process.env,
    readFile,
    write,
    now: Date.now,
  });
} else if (command === 'dead-letters') {
  process.exitCode = await runDeadLettersCommand(process.argv.slice(3), spoolAdminIo);
} else if (command === 'spool-consumers') {
  process.exitCode = await runSpoolConsumersCommand(process.argv.slice(3), spoolAdminIo);
} else {
  await runGateway();
}

function printDevBanner(
  url: string,
  dev: DevInfo,
  streamConfig: Readonly<Record<string, { readonly disStream: string }>>,
): void {
  const streams = Object.keys(streamConfig);
  const stream = streams[0] ?? 'events';
  const lines = [
    `dis-gateway (dev mode) listening on ${url}`,
    dev.emulatorUrl === undefined
      ? '  DIS: configured endpoint'
      : `  DIS: embedded emulator at ${dev.emulatorUrl} (admin API: ${dev.emulatorUrl}/_emulator/faults)`,
    dev.redis === 'memory'
      ? '  REDIS_URL is not set: rate limits and idempotency keys live in this process only (dev mode)'
      : '  Redis: connected (rate limits, idempotency keys and the spool are shared)',
    `  streams: ${streams.join(', ')}`,
  ];
  if (dev.token !== undefined) {
    lines.push(
      '  dev token (1 h, scope dis:write:*, signed with a secret made at startup):',
      `    ${dev.token}`,
      '  try:',
      `    curl -sS -X POST ${url}/v1/streams/${stream}/records \\`,
      `      -H 'Authorization: Bearer ${dev.token}' \\`,
      `      -H 'Content-Type: application/json' \\`,
      `      -d '{"records":[{"id":"evt-1","data":{"user_id":"u-42","action":"click"}}]}'`,
    );
  }
  if (dev.frontdoor !== undefined) {
    const { ak, sk, projectId } = dev.frontdoor;
    const disStream = streamConfig[stream]?.disStream ?? stream;
    lines.push(
      `  DIS front door (${url}/v2/${projectId}/…, dev client made at startup, scope dis:write:*):`,
      `    AK ${ak}  SK ${sk}  project ${projectId}`,
      '  try it with the DIS Python v3 SDK (pip install huaweicloudsdkdis):',
      '    from huaweicloudsdkcore.auth.credentials import BasicCredentials',
      '    from huaweicloudsdkdis.v2 import DisClient, PutRecordsRequest, PutRecordsRequestEntry, SendRecordsRequest',
      `    credentials = BasicCredentials("${ak}", "${sk}", "${projectId}")`,
      `    client = DisClient.new_builder().with_credentials(credentials).with_endpoints(["${url}"]).build()`,
      '    records = [PutRecordsRequestEntry(data="aGVsbG8sIGdhdGV3YXk=", partition_key="user-42")]',
      `    request = SendRecordsRequest(body=PutRecordsRequest(stream_name="${disStream}", records=records))`,
      '    print(client.send_records(request))',
    );
  }
  console.log(lines.join('\n'));
}

async function runGateway(): Promise<void> {
  const loaded = loadConfig(process.env, readFile);
  if (!loaded.ok) {
    console.error(`dis-gateway: invalid configuration\n${formatProblems(loaded.problems)}`);
    process.exit(1);
  }
  const { config } = loaded;
  const logger = createLogger({
    level: config.log.level,
    destination: config.production ? undefined : await devPrettyStream(process.stdout.isTTY),
  });
  for (const warning of loaded.warnings) logger.warn(warning);
  // Written now, not with the next 4 KiB: a signal before the handlers exist would lose them.
  if (loaded.warnings.length > 0) logger.flush();

  // The drain state exists once the server does; until then nothing is draining.
  const lifecycle: { shutdown?: DrainState } = {};
  const gateway = await composeGateway(config, {
    now: Date.now,
    instanceId: `${hostname()}-${process.pid}`,
    draining: () => lifecycle.shutdown?.draining() ?? false,
    logger,
    build: { version: readVersion(), nodeVersion: process.versions.node },
  });
  try {
    await gateway.ready(config.redis.mode === 'memory' ? 0 : config.redis.connectTimeoutMs * 2);
  } catch (error) {
    if (!(error instanceof StartupRefusedError)) throw error;
    logger.flush();
    console.error(`dis-gateway: ${error.message}`);
    await gateway.close();
    process.exit(1);
  }
  const server = createGatewayServer(gateway.app, config.server, {
    logger,
    countClientError: (code) => {
      gateway.metrics.httpClientErrors.inc({ code });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
    server.listen(config.server.port, config.server.host);
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.server.port;
  const host = config.server.host === '0.0.0.0' ? '127.0.0.1' : config.server.host;
  const url = `http://${host}:${port}`;
  gateway.start();
  if (gateway.dev === undefined) {
    logger.info({ url }, `dis-gateway listening on ${url}`);
    // Supervisors and tests wait for this line: it does not wait for the log buffer to fill.
    logger.flush();
  } else printDevBanner(url, gateway.dev, config.streams);

  const shutdown = createShutdown({
    server,
    delayMs: config.server.shutdownDelayMs,
    timeoutMs: config.server.shutdownTimeoutMs,
    closeGateway: () => gateway.close(),
    log: (message) => {
      logger.info(message);
    },
    exit: (code) => {
      logger.flush();
      process.exit(code);
    },
  });
  lifecycle.shutdown = shutdown;
  process.on('SIGTERM', () => {
    shutdown.begin('SIGTERM');
  });
  process.on('SIGINT', () => {
    // Ctrl-C in dev mode has no load balancer to wait for.
    shutdown.begin('SIGINT', { skipDelay: !config.production });
  });
}

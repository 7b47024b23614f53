import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { formatProblems, loadConfig } from '../config/load-config.ts';
import { signTestDelivery } from '../webhooks/sign.ts';

const USAGE = `usage: dis-gateway send-webhook <source> [--url http://127.0.0.1:8080] [--body JSON] [--id DELIVERY_ID]

Signs a test delivery with the source's first configured secret, exactly as its provider would,
and POSTs it to <url>/v1/webhooks/<source>. Prints the status and the answer.`;

export interface SendWebhookIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readFile: (path: string) => string;
  readonly write: (line: string) => void;
  readonly now: () => number;
}

/** `send-webhook`: a signed test delivery, for trying a webhook source end to end. Returns the exit code. */
export async function runSendWebhookCommand(
  argv: readonly string[],
  io: SendWebhookIo,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        url: { type: 'string', default: 'http://127.0.0.1:8080' },
        body: { type: 'string', default: '{"hello":"from dis-gateway send-webhook"}' },
        id: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    io.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  const name = parsed.positionals[0];
  if (parsed.values.help || name === undefined) {
    io.write(USAGE);
    return parsed.values.help ? 0 : 2;
  }
  const loaded = loadConfig(io.env, io.readFile);
  if (!loaded.ok) {
    io.write(`invalid configuration\n${formatProblems(loaded.problems)}`);
    return 1;
  }
  const source = loaded.config.webhooks.sources[name];
  if (source === undefined) {
    const known = Object.keys(loaded.config.webhooks.sources).join(', ') || 'none';
    io.write(`no webhook source "${name}" in the configuration (configured: ${known})`);
    return 1;
  }
  const body = Buffer.from(parsed.values.body);
  const headers = signTestDelivery(source, {
    body,
    nowMs: io.now(),
    deliveryId: parsed.values.id ?? randomUUID(),
  });
  const url = `${parsed.values.url.replace(/\/+$/, '')}/v1/webhooks/${name}`;
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  io.write(`${res.statusCode} ${await res.body.text()}`);
  return res.statusCode < 300 ? 0 : 1;
}

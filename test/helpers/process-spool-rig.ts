import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Agent, request } from 'undici';
import { z } from 'zod';
import type { Emulator } from '../../src/emulator/emulator.ts';
import { createSpoolKeys, FORWARDER_GROUP } from '../../src/spool/keys.ts';
import { signGithub } from '../../src/webhooks/sign.ts';
import type { Cleanup } from './cleanup.ts';
import { startGatewayFixture } from './process-fixture.ts';
import { spawnGateway, type GatewayProcess, type ProcessEnv } from './process-gateway.ts';
import { startRedis } from './redis-server.ts';

// One Redis, one emulator and gateway processes started on demand, all pointed at one logical
// stream (`clicks`) that both a GitHub webhook source and the records endpoint write to, through
// the spool. Everything opened here is closed by the test context's `after` hooks.

export const LOGICAL_STREAM = 'clicks';
export const WEBHOOK_SOURCE = 'gh';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
}

export interface SpoolRig {
  readonly emulator: Emulator;
  readonly disStream: string;
  /** A separate client for looking at the spool (XPENDING, XLEN, the dead-letter stream). */
  readonly redis: Redis;
  readonly spoolKey: string;
  readonly deadLetterKey: string;
  /** Sends `dis:write:clicks`; owns the receipts of its records. */
  readonly senderToken: string;
  /** Carries `dis:receipts:read`: may read any receipt, webhook deliveries included. */
  readonly operatorToken: string;
  /** The gateway's environment: for `node src/main.ts <command>` against the same spool. */
  readonly env: ProcessEnv;
  spawn(): Promise<GatewayProcess>;
  postWebhook(url: string, deliveryId: string, body: string): Promise<HttpAnswer>;
  postRecords(url: string, data: readonly unknown[]): Promise<HttpAnswer>;
  getReceipt(url: string, token: string, id: string): Promise<HttpAnswer>;
  /** Every record the emulator holds for the stream, as UTF-8 text. */
  stored(): string[];
  /** XPENDING's summary: entries read by some consumer and not acknowledged. */
  pending(): Promise<number>;
}

export interface SpoolRigOptions {
  readonly partitions: number;
  /** The config file's `spool` section. */
  readonly spool: Readonly<Record<string, number>>;
  /**
   * `dis.request_timeout_ms` (with `connect_timeout_ms` 200): with a short claim time it must leave
   * room for an attempt still in flight at a batch's deadline (claim_idle_ms > put_timeout_ms +
   * 200 + 2 × this).
   */
  readonly disRequestTimeoutMs?: number;
}

const PendingSummary = z.tuple([z.coerce.number()], z.unknown());

export async function startSpoolRig(t: Cleanup, options: SpoolRigOptions): Promise<SpoolRig> {
  const server = await startRedis();
  t.after(() => server.stop());
  const fixture = await startGatewayFixture(t, {
    name: 'proc-spool',
    partitions: options.partitions,
  });
  const { emulator, disStream } = fixture;
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  t.after(() => {
    redis.disconnect();
  });
  const agent = new Agent({ connections: 32, keepAliveTimeout: 10_000 });
  t.after(() => agent.close());

  const configPath = await fixture.writeConfig('gateway.json', {
    redis: { command_timeout_ms: 1000 },
    webhooks: {
      sources: {
        [WEBHOOK_SOURCE]: {
          profile: 'github',
          secrets_env: ['GH_SECRET'],
          stream: LOGICAL_STREAM,
          mode: 'async',
        },
      },
    },
    spool: options.spool,
    ...(options.disRequestTimeoutMs === undefined
      ? {}
      : { dis: { request_timeout_ms: options.disRequestTimeoutMs, connect_timeout_ms: 200 } }),
  });
  const webhookSecret = randomBytes(24).toString('hex');
  const env = {
    ...fixture.env,
    GATEWAY_CONFIG: configPath,
    REDIS_URL: server.url,
    GATEWAY_STREAMS: `${LOGICAL_STREAM}=${disStream}:${String(options.partitions)}`,
    GH_SECRET: webhookSecret,
  };
  const senderToken = fixture.token(`sender-${randomBytes(4).toString('hex')}`, [
    `dis:write:${LOGICAL_STREAM}`,
  ]);
  const operatorToken = fixture.token('operator', ['dis:receipts:read']);

  const send = async (
    url: string,
    method: 'GET' | 'POST',
    headers: Record<string, string>,
    body?: string,
  ): Promise<HttpAnswer> => {
    const response = await request(url, {
      method,
      dispatcher: agent,
      headers,
      ...(body === undefined ? {} : { body }),
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    return {
      status: response.statusCode,
      headers: response.headers,
      text: await response.body.text(),
    };
  };

  const keys = createSpoolKeys();
  const spoolKey = keys.stream(disStream);
  return {
    emulator,
    disStream,
    redis,
    spoolKey,
    deadLetterKey: keys.deadLetter(disStream),
    senderToken,
    operatorToken,
    env,
    spawn: () => spawnGateway(t, { env }),
    postWebhook: (url, deliveryId, body) =>
      send(
        `${url}/v1/webhooks/${WEBHOOK_SOURCE}`,
        'POST',
        {
          'content-type': 'application/json',
          'x-github-event': 'push',
          'x-github-delivery': deliveryId,
          'x-hub-signature-256': signGithub({ secret: webhookSecret, body }),
        },
        body,
      ),
    postRecords: (url, data) =>
      send(
        `${url}/v1/streams/${LOGICAL_STREAM}/records`,
        'POST',
        {
          authorization: `Bearer ${senderToken}`,
          'content-type': 'application/json',
          prefer: 'respond-async',
        },
        JSON.stringify({ records: data.map((d) => ({ data: d })) }),
      ),
    getReceipt: (url, bearer, id) =>
      send(`${url}/v1/receipts/${encodeURIComponent(id)}`, 'GET', {
        authorization: `Bearer ${bearer}`,
      }),
    stored: () =>
      emulator.state
        .records(disStream)
        .flatMap((partition) => partition.records.map((r) => r.data.toString('utf8'))),
    async pending() {
      try {
        return PendingSummary.parse(await redis.xpending(spoolKey, FORWARDER_GROUP))[0];
      } catch (error) {
        if (error instanceof Error && error.message.startsWith('NOGROUP')) return 0;
        throw error;
      }
    },
  };
}

export { waitFor } from './wait.ts';

/** Runs `work` over `items` with at most `limit` at a time; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      const item = items[index];
      if (item !== undefined) results[index] = await work(item, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

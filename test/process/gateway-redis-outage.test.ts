import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { z } from 'zod';
import { mintToken } from '../../src/auth/mint-token.ts';
import { DEV_CREDENTIALS, createEmulator } from '../../src/emulator/emulator.ts';
import { uniqueStreamName } from '../helpers/dis-fixtures.ts';
import { spawnGateway, type GatewayProcess } from '../helpers/process-gateway.ts';
import { startRedis } from '../helpers/redis-server.ts';

const ISSUER = 'https://auth.process-test.internal';
const AUDIENCE = 'dis-gateway';
const MODES = ['fail-open', 'fail-closed'] as const;
type Mode = (typeof MODES)[number];

const Problem = z.object({ code: z.string(), status: z.number() });

interface Answer {
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly contentType: string;
  readonly text: string;
}

describe('gateway processes while Redis stops and comes back', () => {
  it('fail-open keeps answering, fail-closed answers 503, idempotent requests get 503 in both, and both recover when Redis returns', async (t) => {
    const redis = await startRedis();
    t.after(() => redis.stop());
    const disStream = uniqueStreamName('proc-outage');
    const emulator = await createEmulator({
      throttling: false,
      streams: [{ name: disStream, partitions: 2 }],
    });
    t.after(() => emulator.close());
    const dir = await mkdtemp(join(tmpdir(), 'gw-process-outage-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const credentials = DEV_CREDENTIALS[0];
    assert.ok(credentials !== undefined);
    const secret = randomBytes(32).toString('base64url');

    // Redis comes from the file only: REDIS_URL would override redis.url.
    const start = async (mode: Mode): Promise<GatewayProcess> => {
      const path = join(dir, `${mode}.json`);
      await writeFile(path, JSON.stringify({ redis: { url: redis.url, on_error: mode } }));
      return spawnGateway({
        env: {
          PORT: '0',
          HOST: '127.0.0.1',
          GATEWAY_CONFIG: path,
          DIS_ENDPOINT: emulator.url,
          DIS_PROJECT_ID: emulator.projectId,
          DIS_REGION: 'cn-north-4',
          DIS_AK: credentials.ak,
          DIS_SK: credentials.sk,
          JWT_SECRET: secret,
          JWT_ISSUER: ISSUER,
          JWT_AUDIENCE: AUDIENCE,
          JWT_ALGORITHMS: 'HS256',
          GATEWAY_STREAMS: `clicks=${disStream}:2`,
        },
      });
    };
    const started = await Promise.allSettled(MODES.map(start));
    const running: GatewayProcess[] = [];
    for (const result of started) if (result.status === 'fulfilled') running.push(result.value);
    t.after(() => Promise.all(running.map((g) => g.stop('SIGKILL').catch(() => undefined))));
    const [open, closed] = started.map((result) => {
      if (result.status === 'rejected') throw result.reason;
      return result.value;
    });
    assert.ok(open !== undefined && closed !== undefined);

    const token = mintToken({
      secret,
      issuer: ISSUER,
      audience: AUDIENCE,
      subject: `outage-${randomBytes(4).toString('hex')}`,
      scopes: ['dis:write:clicks'],
      lifetimeS: 300,
      now: Date.now(),
    });
    const agent = new Agent({ keepAliveTimeout: 10_000 });
    t.after(() => agent.close());
    let written = 0;
    const send = async (gateway: GatewayProcess, idempotent = false): Promise<Answer> => {
      const response = await request(`${gateway.url}/v1/streams/clicks/records`, {
        method: 'POST',
        dispatcher: agent,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          ...(idempotent ? { 'idempotency-key': randomUUID() } : {}),
        },
        body: JSON.stringify({ records: [{ data: { at: Date.now() } }] }),
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
      const text = await response.body.text();
      if (response.statusCode === 200) written += 1;
      const retryAfter = response.headers['retry-after'];
      return {
        status: response.statusCode,
        retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
        contentType: String(response.headers['content-type']),
        text,
      };
    };
    /** Polls until a request answers 200; returns the milliseconds it took. */
    const until200 = async (gateway: GatewayProcess, idempotent: boolean): Promise<number> => {
      const begun = performance.now();
      let last: Answer | undefined;
      while (performance.now() - begun < 10_000) {
        last = await send(gateway, idempotent);
        if (last.status === 200) return performance.now() - begun;
        await sleep(50);
      }
      assert.fail(`no 200 within 10 s; last answer ${String(last?.status)} ${last?.text ?? ''}`);
    };
    const assertRedisUnavailable = (answer: Answer, what: string): void => {
      assert.equal(answer.status, 503, `${what}: ${answer.text}`);
      assert.match(answer.retryAfter ?? '', /^\d+$/, `${what}: Retry-After`);
      assert.match(answer.contentType, /^application\/problem\+json/, what);
      assert.equal(Problem.parse(JSON.parse(answer.text)).code, 'ERR_REDIS_UNAVAILABLE', what);
    };

    // While Redis runs (the first poll also waits out each process's first connection).
    for (const gateway of [open, closed]) {
      await until200(gateway, false);
      assert.equal((await send(gateway, true)).status, 200, 'an idempotent request with Redis');
    }

    await redis.stop();
    for (let i = 0; i < 3; i += 1) {
      const answer = await send(open);
      assert.equal(answer.status, 200, `fail-open without Redis: ${answer.text}`);
      assertRedisUnavailable(await send(closed), 'fail-closed without Redis');
    }
    assertRedisUnavailable(await send(open, true), 'fail-open, Idempotency-Key, no Redis');
    assertRedisUnavailable(await send(closed, true), 'fail-closed, Idempotency-Key, no Redis');

    await redis.start();
    // Idempotency needs Redis in both modes, so a 200 for it shows each process is back on Redis.
    const recovery = {
      closed: await until200(closed, false),
      openIdempotent: await until200(open, true),
      closedIdempotent: await until200(closed, true),
    };
    t.diagnostic(
      `back to 200 after the restart: fail-closed ${recovery.closed.toFixed(0)} ms; ` +
        `with Idempotency-Key +${recovery.openIdempotent.toFixed(0)} ms (fail-open), ` +
        `+${recovery.closedIdempotent.toFixed(0)} ms (fail-closed)`,
    );

    const stored = emulator.state
      .records(disStream)
      .reduce((sum, partition) => sum + partition.records.length, 0);
    assert.equal(stored, written, 'only the 200s reached DIS');
    assert.deepEqual(await Promise.all([open.stop('SIGTERM'), closed.stop('SIGTERM')]), [0, 0]);
  });
});

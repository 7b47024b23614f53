import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { z } from 'zod';
import { startGatewayFixture } from '../helpers/process-fixture.ts';
import { spawnGateways, type GatewayProcess } from '../helpers/process-gateway.ts';
import { startRedis } from '../helpers/redis-server.ts';

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
    const fixture = await startGatewayFixture(t, { name: 'proc-outage', partitions: 2 });
    const { emulator, disStream } = fixture;

    // Redis comes from the file only: REDIS_URL would override redis.url.
    const run = async (mode: Mode) => ({
      env: {
        ...fixture.env,
        GATEWAY_CONFIG: await fixture.writeConfig(`${mode}.json`, {
          redis: { url: redis.url, on_error: mode },
        }),
        GATEWAY_STREAMS: `clicks=${disStream}:2`,
      },
    });
    const [open, closed] = await spawnGateways(t, await Promise.all(MODES.map(run)));
    assert.ok(open !== undefined && closed !== undefined);

    const token = fixture.token(
      `outage-${randomBytes(4).toString('hex')}`,
      ['dis:write:clicks'],
      300,
    );
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

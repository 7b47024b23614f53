import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { Agent, request } from 'undici';
import { startGatewayFixture } from '../helpers/process-fixture.ts';
import { spawnGateways } from '../helpers/process-gateway.ts';
import { startRedis } from '../helpers/redis-server.ts';

const LIMIT = { requests_per_s: 40, burst: 10, records_per_s: 100_000, bytes_per_s: 100_000_000 };
const GATEWAYS = 3;
const IN_FLIGHT = 12;
const LOAD_MS = 3000;
/** A bound on the loop besides time: far above what loopback reaches in LOAD_MS on two cores. */
const MAX_REQUESTS = 30_000;

/** Polls Redis until `count` clients besides the asking one are connected. */
async function untilClients(redisUrl: string, count: number, timeoutMs: number): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const info = await redis.info('clients');
      const connected = Number(/connected_clients:(\d+)/.exec(info)?.[1] ?? 0) - 1;
      if (connected >= count) return;
      if (Date.now() > deadline)
        throw new Error(`only ${connected} of ${count} gateways connected to Redis`);
      await sleep(25);
    }
  } finally {
    redis.disconnect();
  }
}

describe('rate limits shared by gateway processes through Redis', () => {
  it('three gateway processes behind one Redis admit one principal at its limit, not three times it', async (t) => {
    const redis = await startRedis();
    t.after(() => redis.stop());
    const fixture = await startGatewayFixture(t, { name: 'proc-rl', partitions: 4 });
    const { emulator, disStream } = fixture;
    // The default command timeout (50 ms) is exceeded now and then on a busy two-core machine; each
    // time, fail-open hands the decision to the process's own memory limiter for a moment, which
    // over-admits (seen: ratio 1.40 with the whole suite running). That is the fail-open trade-off,
    // not the sharing this test is about, so Redis gets a timeout a slow host cannot reach.
    const configPath = await fixture.writeConfig('gateway.json', {
      limits: { default: LIMIT },
      redis: { command_timeout_ms: 1000 },
    });
    const env = {
      ...fixture.env,
      GATEWAY_CONFIG: configPath,
      REDIS_URL: redis.url,
      GATEWAY_STREAMS: `clicks=${disStream}:4`,
    };
    const gateways = await spawnGateways(
      t,
      Array.from({ length: GATEWAYS }, () => ({ env })),
    );
    // A request before a gateway's Redis connection is up would be decided in memory (fail-open).
    await untilClients(redis.url, GATEWAYS, 10_000);

    const token = fixture.token(
      `load-${randomBytes(4).toString('hex')}`,
      ['dis:write:clicks'],
      300,
    );
    const agent = new Agent({ connections: IN_FLIGHT, keepAliveTimeout: 10_000 });
    t.after(() => agent.close());

    const admittedBy = gateways.map(() => 0);
    let rejected = 0;
    let sent = 0;
    const problems: string[] = [];
    const startedAt = performance.now();
    const stopAt = startedAt + LOAD_MS;
    const worker = async (): Promise<void> => {
      while (performance.now() < stopAt && sent < MAX_REQUESTS) {
        const index = sent % GATEWAYS;
        const gateway = gateways[index];
        assert.ok(gateway !== undefined);
        sent += 1;
        const response = await request(`${gateway.url}/v1/streams/clicks/records`, {
          method: 'POST',
          dispatcher: agent,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ records: [{ data: { n: sent } }] }),
          headersTimeout: 10_000,
          bodyTimeout: 10_000,
        });
        const text = await response.body.text();
        const { statusCode, headers } = response;
        if (headers.ratelimit === undefined || headers['ratelimit-policy'] === undefined)
          problems.push(`${statusCode} without RateLimit headers`);
        if (statusCode === 200) admittedBy[index] = (admittedBy[index] ?? 0) + 1;
        else if (statusCode === 429) {
          rejected += 1;
          if (!/^\d+$/.test(String(headers['retry-after'])))
            problems.push('429 without a Retry-After in seconds');
        } else problems.push(`unexpected ${statusCode}: ${text.slice(0, 200)}`);
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    const elapsedS = (performance.now() - startedAt) / 1000;

    const admitted = admittedBy.reduce((sum, n) => sum + n, 0);
    const allowed = LIMIT.requests_per_s * elapsedS + LIMIT.burst;
    const ratio = admitted / allowed;
    t.diagnostic(
      `${GATEWAYS} processes admitted ${admitted} of allowed ${allowed.toFixed(1)} (ratio ${ratio.toFixed(3)}); ` +
        `${rejected} got 429; ${sent} requests in ${elapsedS.toFixed(2)} s; per process ${admittedBy.join('/')}`,
    );
    assert.deepEqual(problems.slice(0, 5), []);
    assert.ok(rejected > 0, 'the load went over the limit');
    assert.ok(
      ratio >= 0.8 && ratio <= 1.1,
      `admitted ${admitted} of ${allowed.toFixed(1)}: ratio ${ratio.toFixed(3)}`,
    );
    const stored = emulator.state
      .records(disStream)
      .reduce((sum, partition) => sum + partition.records.length, 0);
    assert.equal(stored, admitted, 'DIS holds exactly the admitted records');
  });
});

import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { whenReady } from '../../src/redis/connect.ts';
import { readDeliveryBody } from '../../src/webhooks/delivery-body.ts';
import {
  createMemoryReplayGuard,
  createRedisReplayGuard,
  ReplayGuardUnavailable,
  toReplayKey,
} from '../../src/webhooks/replay-guard.ts';
import type { ReplayGuard } from '../../src/webhooks/replay-guard.ts';
import { replayTtlS } from '../../src/webhooks/replay-ttl.ts';
import { createWebhookVerifier } from '../../src/webhooks/verifier.ts';
import { startTestRedis, useTestRedis } from '../helpers/redis-fixture.ts';
import { webhookSource } from '../helpers/webhook-source.ts';

/** The behaviour both guards promise; each test uses its own source name. */
function behavesLikeAReplayGuard(make: () => ReplayGuard): void {
  const source = (): string => `src-${randomUUID()}`;

  it('the first claim of a delivery id is new; while it is pending later ones are in progress, once accepted duplicates', async () => {
    const guard = make();
    const name = source();
    assert.equal(await guard.claim(name, 'd-1'), 'new');
    assert.equal(await guard.claim(name, 'd-1'), 'in-progress');
    await guard.accept(name, 'd-1');
    assert.equal(await guard.claim(name, 'd-1'), 'duplicate');
    assert.equal(await guard.claim(name, 'd-1'), 'duplicate');
  });

  it('of ten concurrent claims of one id exactly one is new, the others in progress', async () => {
    const guard = make();
    const name = source();
    const verdicts = await Promise.all(Array.from({ length: 10 }, () => guard.claim(name, 'd-1')));
    assert.equal(verdicts.filter((v) => v === 'new').length, 1);
    assert.equal(verdicts.filter((v) => v === 'in-progress').length, 9);
  });

  it('the same id from two sources, or two ids from one source, are both new', async () => {
    const guard = make();
    const [a, b] = [source(), source()];
    assert.equal(await guard.claim(a, 'd-1'), 'new');
    assert.equal(await guard.claim(b, 'd-1'), 'new');
    assert.equal(await guard.claim(a, 'd-2'), 'new');
  });

  it('after release, the sender retry of a delivery that failed to be accepted is new again', async () => {
    const guard = make();
    const name = source();
    assert.equal(await guard.claim(name, 'd-1'), 'new');
    await guard.release(name, 'd-1');
    assert.equal(await guard.claim(name, 'd-1'), 'new');
    assert.equal(await guard.claim(name, 'd-1'), 'in-progress');
  });

  it('a source name with hash-tag characters and a 256-character id are stored and told apart', async () => {
    const guard = make();
    const name = `${source()}}:{x`;
    const long = 'é'.repeat(256);
    assert.equal(await guard.claim(name, long), 'new');
    await guard.accept(name, long);
    assert.equal(await guard.claim(name, long), 'duplicate');
    assert.equal(await guard.claim(name, `${long.slice(1)}e`), 'new');
  });
}

describe('replay TTL', () => {
  it('outlasts the whole tolerance window (2 × tolerance + 1 s), and is never under 10 minutes', () => {
    assert.equal(replayTtlS(300), 601);
    assert.equal(replayTtlS(3600), 7201);
    assert.equal(replayTtlS(30), 600);
  });
});

describe('memory replay guard', () => {
  behavesLikeAReplayGuard(() =>
    createMemoryReplayGuard({ ttlS: 600, pendingTtlS: 20, now: () => 0 }),
  );

  it('with an injected clock, an accepted id is a duplicate until its TTL has passed, then new again', async () => {
    let nowMs = 1_000_000;
    const guard = createMemoryReplayGuard({ ttlS: 600, pendingTtlS: 20, now: () => nowMs });
    assert.equal(await guard.claim('s', 'd-1'), 'new');
    await guard.accept('s', 'd-1');
    nowMs += 600_000 - 1;
    assert.equal(await guard.claim('s', 'd-1'), 'duplicate', 'a duplicate does not extend the TTL');
    nowMs += 1;
    assert.equal(await guard.claim('s', 'd-1'), 'new');
    await guard.accept('s', 'd-1');
    nowMs += 599_999;
    assert.equal(await guard.claim('s', 'd-1'), 'duplicate', 'the new claim started a new TTL');
  });

  it('a claim never accepted nor released is in progress for its pending TTL, then new again', async () => {
    let nowMs = 1_000_000;
    const guard = createMemoryReplayGuard({ ttlS: 600, pendingTtlS: 20, now: () => nowMs });
    assert.equal(await guard.claim('s', 'd-1'), 'new');
    nowMs += 19_999;
    assert.equal(await guard.claim('s', 'd-1'), 'in-progress');
    nowMs += 1;
    assert.equal(await guard.claim('s', 'd-1'), 'new');
  });

  it('after the clock steps back, each id still expires on its own schedule', async () => {
    let nowMs = 10_000_000;
    const guard = createMemoryReplayGuard({ ttlS: 600, pendingTtlS: 20, now: () => nowMs });
    assert.equal(await guard.claim('s', 'late'), 'new');
    await guard.accept('s', 'late'); // expires at 10_600_000
    nowMs -= 5_000;
    assert.equal(await guard.claim('s', 'early'), 'new');
    await guard.accept('s', 'early'); // expires at 10_595_000
    nowMs = 10_597_000;
    assert.equal(await guard.claim('s', 'early'), 'new', 'expired, though stored after a live id');
    assert.equal(await guard.claim('s', 'late'), 'duplicate');
  });
});

describe('Redis replay guard', () => {
  const db = useTestRedis({ commandTimeoutMs: 1000 });

  behavesLikeAReplayGuard(() =>
    createRedisReplayGuard({
      redis: db.redis,
      ttlS: 600,
      pendingTtlS: 20,
      keyPrefix: `gw:replay:t-${randomUUID()}:`,
    }),
  );

  it('a claim sets gw:replay:{<source b64url>}:<sha256(id)> pending for the pending TTL, accept for the full TTL; release deletes it', async () => {
    const sourceName = `gh-${randomUUID()}`;
    const guard = createRedisReplayGuard({
      redis: db.redis,
      ttlS: replayTtlS(300),
      pendingTtlS: 20,
    });
    assert.equal(await guard.claim(sourceName, 'delivery-42'), 'new');
    const digest = createHash('sha256').update('delivery-42').digest('base64url');
    const key = `gw:replay:{${Buffer.from(sourceName).toString('base64url')}}:${digest}`;
    assert.equal(key, toReplayKey('gw:replay:', sourceName, 'delivery-42'));
    assert.equal(await db.redis.get(key), 'pending');
    const pendingTtl = await db.redis.ttl(key);
    assert.ok(pendingTtl > 15 && pendingTtl <= 20, `pending ttl ${pendingTtl}`);
    await guard.accept(sourceName, 'delivery-42');
    assert.equal(await db.redis.get(key), 'done');
    const ttl = await db.redis.ttl(key);
    assert.ok(ttl > 595 && ttl <= 601, `ttl ${ttl}`);

    assert.equal(await guard.claim(sourceName, 'delivery-42'), 'duplicate');
    assert.ok((await db.redis.ttl(key)) <= ttl, 'a duplicate does not extend the TTL');
    await guard.release(sourceName, 'delivery-42');
    assert.equal(await db.redis.exists(key), 0);
  });

  it('a short TTL really expires in Redis, for a pending claim and an accepted one', async () => {
    const guard = createRedisReplayGuard({
      redis: db.redis,
      ttlS: 1,
      pendingTtlS: 1,
      keyPrefix: `gw:replay:t-${randomUUID()}:`,
    });
    assert.equal(await guard.claim('s', 'd-1'), 'new');
    assert.equal(await guard.claim('s', 'd-2'), 'new');
    await guard.accept('s', 'd-2');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal(await guard.claim('s', 'd-1'), 'new');
    assert.equal(await guard.claim('s', 'd-2'), 'new');
  });

  it('an id stored as 1 by a gateway from before pending claims is a duplicate', async () => {
    const keyPrefix = `gw:replay:t-${randomUUID()}:`;
    const guard = createRedisReplayGuard({
      redis: db.redis,
      ttlS: 600,
      pendingTtlS: 20,
      keyPrefix,
    });
    await db.redis.set(toReplayKey(keyPrefix, 's', 'old'), '1', 'EX', 600);
    assert.equal(await guard.claim('s', 'old'), 'duplicate');
  });

  it('sw-s-01 from the fixture: the identical request 10 s later verifies, then is a duplicate', async () => {
    const Vector = z.object({
      id: z.string(),
      secret: z.string(),
      headers: z.record(z.string(), z.string()),
      payload: z.string(),
      now: z.number(),
    });
    const fixture = z
      .object({
        verify_vectors: z.array(z.unknown()),
        stateful_cases: z.array(z.object({ id: z.string() })),
      })
      .parse(
        JSON.parse(
          readFileSync(new URL('../fixtures/webhook-vectors.json', import.meta.url), 'utf8'),
        ),
      );
    assert.ok(fixture.stateful_cases.some((c) => c.id === 'sw-s-01'));
    const vector = fixture.verify_vectors
      .map((v) => Vector.safeParse(v))
      .find((v) => v.data?.id === 'sw-v-01')?.data;
    assert.ok(vector !== undefined);

    const verifier = createWebhookVerifier(
      webhookSource('standard-webhooks', [vector.secret], { maxBodyBytes: 1024 }),
    );
    const guard = createRedisReplayGuard({
      redis: db.redis,
      ttlS: replayTtlS(300),
      pendingTtlS: 20,
      keyPrefix: `gw:replay:t-${randomUUID()}:`,
    });
    const request = {
      headers: Object.fromEntries(Object.entries(vector.headers).map(([k, v]) => [k, [v]])),
      body: readDeliveryBody(Buffer.from(vector.payload)),
    };
    const verdicts: string[] = [];
    for (const nowS of [vector.now, vector.now + 10]) {
      const verified = verifier.verify(request, nowS * 1000);
      assert.ok(verified.ok);
      verdicts.push(await guard.claim('sw', verified.deliveryId));
      await guard.accept('sw', verified.deliveryId);
    }
    assert.deepEqual(verdicts, ['new', 'duplicate']);
  });

  it('when Redis is down, claim and release throw ReplayGuardUnavailable; when it is back, claims work', async (t) => {
    const { server: own, redis: client } = await startTestRedis(t, {
      commandTimeoutMs: 200,
      connectTimeoutMs: 200,
      maxReconnectDelayMs: 100,
    });
    const guard = createRedisReplayGuard({ redis: client, ttlS: 600, pendingTtlS: 20 });
    assert.equal(await guard.claim('s', 'd-1'), 'new');

    await own.stop();
    const unavailable = (error: unknown): boolean => {
      assert.ok(error instanceof ReplayGuardUnavailable);
      assert.equal(error.name, 'ReplayGuardUnavailable');
      assert.ok(error.cause instanceof Error);
      return true;
    };
    await assert.rejects(guard.claim('s', 'd-2'), unavailable);
    await assert.rejects(guard.accept('s', 'd-1'), unavailable);
    await assert.rejects(guard.release('s', 'd-1'), unavailable);

    await own.start();
    await whenReady(client, 5000);
    assert.equal(await guard.claim('s', 'd-2'), 'new');
  });
});

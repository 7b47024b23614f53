import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../../src/errors/app-error.ts';
import { toIdempotencyRedisKey } from '../../src/idempotency/key.ts';
import { createMemoryIdempotencyStore } from '../../src/idempotency/memory-store.ts';
import { createRedisIdempotencyStore } from '../../src/idempotency/redis-store.ts';
import type {
  BeginInput,
  BeginResult,
  IdempotencyHandle,
  IdempotencyStore,
  StoredAnswer,
} from '../../src/idempotency/types.ts';
import { startTestRedis, useTestRedis } from '../helpers/redis-fixture.ts';
import { testReplicaAcks } from '../helpers/redis-server.ts';

interface Subject {
  readonly store: IdempotencyStore;
  /** Lets time pass for the store: real time for Redis, the injected clock for memory. */
  elapse(ms: number): Promise<void>;
}

// Wide enough that a loaded machine cannot make a lock or verdict expire before the test looks.
const LOCK_MS = 500;
const TTL_MS = 1500;

const answer: StoredAnswer = {
  status: 207,
  headers: { 'content-type': 'application/json', 'x-request-id': 'r-1' },
  body: '{"stream":"clicks","failed_record_count":1,"records":[{"status":"ok","note":"é✓"}]}',
};

function started(result: BeginResult): IdempotencyHandle {
  assert.equal(result.kind, 'started');
  return result.handle;
}

/** The behaviour both stores promise; each test uses its own principal. */
function behavesLikeAnIdempotencyStore(make: () => Subject): void {
  const input = (overrides: Partial<BeginInput> = {}): BeginInput => ({
    principal: `svc-${randomUUID()}`,
    stream: 'clicks',
    key: 'order-42',
    fingerprint: 'fp-a',
    lockTtlMs: LOCK_MS,
    ...overrides,
  });

  it('the first request with a key starts', async () => {
    const { store } = make();
    const result = await store.begin(input());
    assert.equal(result.kind, 'started');
  });

  it('of two concurrent requests with the same key and body, one starts and the other is told it is in progress', async () => {
    const { store } = make();
    const first = input();
    const results = await Promise.all([store.begin(first), store.begin(first)]);
    assert.deepEqual(results.map((r) => r.kind).sort(), ['in-progress', 'started']);
    const busy = results.find((r) => r.kind === 'in-progress');
    assert.ok(busy?.kind === 'in-progress' && busy.retryAfterS >= 1);
  });

  it('after complete, the same key and body replay the exact stored answer', async () => {
    const { store } = make();
    const first = input();
    await store.complete(started(await store.begin(first)), answer);
    assert.deepEqual(await store.begin(first), { kind: 'replay', answer });
    assert.deepEqual(await store.begin(first), { kind: 'replay', answer }, 'replays repeat');
  });

  it('another body with the same key is a mismatch, while in progress and after completion', async () => {
    const { store } = make();
    const first = input();
    const handle = started(await store.begin(first));
    assert.deepEqual(await store.begin({ ...first, fingerprint: 'fp-b' }), { kind: 'mismatch' });
    await store.complete(handle, answer);
    assert.deepEqual(await store.begin({ ...first, fingerprint: 'fp-b' }), { kind: 'mismatch' });
  });

  it('release lets the next request with the key start; a stranger cannot release it', async () => {
    const { store } = make();
    const first = input();
    const handle = started(await store.begin(first));
    await store.release({ ...handle, owner: 'someone-else' });
    assert.equal((await store.begin(first)).kind, 'in-progress');
    await store.release(handle);
    assert.equal((await store.begin(first)).kind, 'started');
  });

  it("when the lock expires another request takes over, and the stale holder's complete and release change nothing", async () => {
    const subject = make();
    const { store } = subject;
    const first = input();
    const stale = started(await store.begin(first));
    await subject.elapse(LOCK_MS + 50);
    const fresh = started(await store.begin(first));

    await store.complete(stale, { ...answer, body: 'stale' });
    await store.release(stale);
    assert.equal((await store.begin(first)).kind, 'in-progress', 'the new holder still holds it');

    await store.complete(fresh, answer);
    assert.deepEqual(await store.begin(first), { kind: 'replay', answer });
  });

  it('a holder whose lock expired with nobody taking over still stores its verdict', async () => {
    const subject = make();
    const first = input();
    const handle = started(await subject.store.begin(first));
    await subject.elapse(LOCK_MS + 50);
    await subject.store.complete(handle, answer);
    assert.deepEqual(await subject.store.begin(first), { kind: 'replay', answer });
  });

  it('a verdict is kept for the TTL and then forgotten', async () => {
    const subject = make();
    const first = input();
    await subject.store.complete(started(await subject.store.begin(first)), answer);
    await subject.elapse(TTL_MS - 1000);
    assert.equal((await subject.store.begin(first)).kind, 'replay');
    await subject.elapse(1100);
    assert.equal((await subject.store.begin(first)).kind, 'started');
  });

  it('keys are scoped to principal and stream: the same key elsewhere starts afresh', async () => {
    const { store } = make();
    const a = input({ principal: `a-${randomUUID()}` });
    await store.complete(started(await store.begin(a)), answer);
    assert.equal((await store.begin({ ...a, principal: `b-${randomUUID()}` })).kind, 'started');
    assert.equal((await store.begin({ ...a, stream: 'orders' })).kind, 'started');
    assert.equal(
      (await store.begin({ ...a, fingerprint: 'fp-b', stream: 'other' })).kind,
      'started',
    );
  });
}

describe('memory idempotency store', () => {
  behavesLikeAnIdempotencyStore(() => {
    let now = 1_700_000_000_000;
    return {
      store: createMemoryIdempotencyStore({ ttlMs: TTL_MS, now: () => now }),
      elapse: (ms) => {
        now += ms;
        return Promise.resolve();
      },
    };
  });

  it('keeps at most maxKeys keys, forgetting the oldest first', async () => {
    const store = createMemoryIdempotencyStore({ ttlMs: TTL_MS, now: () => 0, maxKeys: 2 });
    const base = { principal: 'p', stream: 's', fingerprint: 'f', lockTtlMs: LOCK_MS };
    for (const key of ['k1', 'k2', 'k3']) started(await store.begin({ ...base, key }));
    assert.equal((await store.begin({ ...base, key: 'k3' })).kind, 'in-progress');
    assert.equal((await store.begin({ ...base, key: 'k1' })).kind, 'started', 'k1 was evicted');
  });
});

describe('Redis idempotency store', () => {
  const db = useTestRedis({ commandTimeoutMs: 1000 });

  behavesLikeAnIdempotencyStore(() => ({
    store: createRedisIdempotencyStore({
      redis: db.redis,
      acks: testReplicaAcks(db.redis),
      ttlMs: TTL_MS,
      keyPrefix: `gw:idem:t-${randomUUID()}`,
    }),
    elapse: (ms) => sleep(ms),
  }));

  it('the key lives for the lock TTL while in progress and for the verdict TTL once completed', async () => {
    const keyPrefix = `gw:idem:t-${randomUUID()}`;
    const store = createRedisIdempotencyStore({
      redis: db.redis,
      acks: testReplicaAcks(db.redis),
      ttlMs: 86_400_000,
      keyPrefix,
    });
    const request = { principal: 'p', stream: 's', key: 'k', fingerprint: 'f', lockTtlMs: 30_000 };
    const redisKey = toIdempotencyRedisKey(keyPrefix, 'p', 's', 'k');
    const handle = started(await store.begin(request));
    const lockTtl = await db.redis.pttl(redisKey);
    assert.ok(lockTtl > 29_000 && lockTtl <= 30_000, `lock ttl ${lockTtl}`);
    await store.complete(handle, answer);
    const verdictTtl = await db.redis.pttl(redisKey);
    assert.ok(verdictTtl > 86_399_000 && verdictTtl <= 86_400_000, `verdict ttl ${verdictTtl}`);
    assert.equal(
      await db.redis.hget(redisKey, 'owner'),
      null,
      'no lock token is kept with a verdict',
    );
  });

  it('when Redis is down, begin, complete and release fail with ERR_REDIS_UNAVAILABLE and Retry-After', async (t) => {
    const { server: own, redis: client } = await startTestRedis(t, {
      commandTimeoutMs: 200,
      connectTimeoutMs: 200,
    });
    const store = createRedisIdempotencyStore({
      redis: client,
      acks: testReplicaAcks(client),
      ttlMs: TTL_MS,
    });
    const request = { principal: 'p', stream: 's', key: 'k', fingerprint: 'f', lockTtlMs: 1000 };
    const handle = started(await store.begin(request));

    await own.stop();
    const unavailable = (error: unknown) => {
      assert.ok(error instanceof AppError);
      assert.equal(error.code, 'ERR_REDIS_UNAVAILABLE');
      assert.equal(error.status, 503);
      assert.deepEqual(error.headers, { 'Retry-After': '1' });
      return true;
    };
    await assert.rejects(store.begin(request), unavailable);
    await assert.rejects(store.complete(handle, answer), unavailable);
    await assert.rejects(store.release(handle), unavailable);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PutRecordsOutcome } from '../../src/dis/client.ts';
import type { RecordVerdict } from '../../src/dis/verdicts.ts';
import { DisCircuitOpenError } from '../../src/dis/errors.ts';
import { RECORDS_RENDER } from '../../src/http/records-answers.ts';
import { AppError } from '../../src/errors/app-error.ts';
import { createMemoryIdempotencyStore } from '../../src/idempotency/memory-store.ts';
import type { IdempotencyStore } from '../../src/idempotency/types.ts';
import { createAcceptDelivery } from '../../src/ingest/accept-delivery.ts';
import {
  acceptNow,
  createAcceptRecords,
  type AcceptRecordsInput,
  type RecordsResult,
} from '../../src/ingest/accept-records.ts';
import { createHandOff } from '../../src/ingest/hand-off.ts';
import { createIngest, type PutRequest } from '../../src/ingest/ingest.ts';
import { createMemoryReplayGuard } from '../../src/webhooks/replay-guard.ts';

// The application layer's lifecycles (Idempotency-Key, replay claim) over the real ingest and
// memory stores; the sink answers as each test tells it, like DIS would.

const stream = { name: 'clicks', disStream: 'dis-clicks' };
const ok = (n: number): RecordVerdict => ({
  status: 'ok',
  partitionId: 'shardId-0000000000',
  sequenceNumber: String(n),
});
const failed = (errorCode: string, origin: 'request' | 'record' = 'request'): RecordVerdict => ({
  status: 'failed',
  errorCode,
  errorMessage: errorCode,
  retryable: true,
  origin,
});

function outcomeOf(verdicts: RecordVerdict[]): PutRecordsOutcome {
  return {
    verdicts,
    failedCount: verdicts.filter((v) => v.status === 'failed').length,
    requests: 1,
    possibleDuplicates: 0,
  };
}

type Answer = (request: PutRequest) => Promise<PutRecordsOutcome>;

/** `failCompletes`: what the store's first `complete` calls throw (a Redis that failed after DIS answered). */
function rig(options: { readonly failCompletes?: readonly Error[] } = {}) {
  const answers: Answer[] = [];
  const puts: PutRequest[] = [];
  const duplicates: number[] = [];
  const background: Promise<void>[] = [];
  const counted: string[] = [];
  const handOff = createHandOff({
    ingest: createIngest({
      sink: {
        put: (request) => {
          puts.push(request);
          const answer = answers.shift();
          if (answer === undefined) throw new Error('the sink was not told how to answer');
          return answer(request);
        },
      },
      randomKey: () => 'k',
    }),
    spool: undefined,
    now: Date.now,
    background: (task) => background.push(task),
    events: {
      records: (_stream, outcome, count) => counted.push(`${outcome}:${count}`),
      possibleDuplicates: (n) => duplicates.push(n),
    },
  });
  const store = createMemoryIdempotencyStore({ ttlMs: 60_000, now: Date.now });
  const failures = [...(options.failCompletes ?? [])];
  const idempotency: IdempotencyStore = {
    ...store,
    complete: (handle, answer) => {
      const failure = failures.shift();
      return failure === undefined ? store.complete(handle, answer) : Promise.reject(failure);
    },
  };
  const acceptance = createAcceptRecords({
    handOff,
    idempotency,
    render: RECORDS_RENDER,
    lateAnswerMs: 1000,
    background: (task) => background.push(task),
    events: { possibleDuplicates: (n) => duplicates.push(n) },
  });
  const acceptDelivery = createAcceptDelivery({
    handOff,
    replayGuard: createMemoryReplayGuard({ ttlS: 600, pendingTtlS: 30, now: Date.now }),
    events: { possibleDuplicates: (n) => duplicates.push(n) },
  });
  return {
    answers,
    puts,
    duplicates,
    counted,
    acceptRecords: (input: AcceptRecordsInput) => acceptNow(acceptance, input),
    acceptance,
    acceptDelivery,
    settled: async () => {
      await Promise.all(background);
    },
    /** The next PutRecords waits until the test calls the returned function with DIS's answer. */
    answerLater: (): ((outcome: PutRecordsOutcome) => void) => {
      let settle: (outcome: PutRecordsOutcome) => void = () => undefined;
      const later = new Promise<PutRecordsOutcome>((resolve) => {
        settle = resolve;
      });
      answers.push(() => later);
      return (outcome) => {
        settle(outcome);
      };
    },
  };
}

const twoRecords = [{ data: Buffer.from('{"a":1}'), id: 'one' }, { data: Buffer.from('{"a":2}') }];
const keyed = (key: string) => ({
  principal: 'svc-a',
  stream,
  records: twoRecords,
  bytes: twoRecords.reduce((sum, r) => sum + r.data.length, 0),
  mode: 'sync' as const,
  waitMs: 1000,
  idempotency: { key, fingerprint: 'f1' },
});

function answerOf(result: RecordsResult): { status: number; body: unknown } {
  assert.ok('answer' in result, `expected an answer, got ${result.kind}`);
  return { status: result.answer.status, body: JSON.parse(result.answer.body) };
}

describe('accepting records with an Idempotency-Key', () => {
  it('a retry after a written request replays its answer without sending again', async () => {
    const r = rig();
    r.answers.push(() => Promise.resolve(outcomeOf([ok(1), ok(2)])));
    const first = await r.acceptRecords(keyed('k1'));
    assert.equal(first.kind, 'written');
    const again = await r.acceptRecords(keyed('k1'));
    assert.equal(again.kind, 'replayed');
    assert.deepEqual(answerOf(again), answerOf(first));
    assert.equal(r.puts.length, 1);
    assert.deepEqual(r.counted, ['written:2']);
    const body = answerOf(first).body as { records: { id?: string }[] };
    assert.equal(body.records[0]?.id, 'one');
  });

  it('a claim abandoned before its records were handed off frees the key; it is used once', async () => {
    const r = rig();
    const begun = await r.acceptance.begin(keyed('k-abandon'));
    assert.ok(begun.kind === 'claimed', begun.kind);
    const inProgress = await r.acceptance.begin(keyed('k-abandon'));
    assert.equal(inProgress.kind, 'in-progress', 'the first claim holds the key');
    await begun.claim.abandon();
    await begun.claim.abandon();
    await assert.rejects(() => begun.claim.accept(twoRecords, 14), /once/);
    r.answers.push(() => Promise.resolve(outcomeOf([ok(1), ok(2)])));
    assert.equal((await r.acceptRecords(keyed('k-abandon'))).kind, 'written');
    assert.equal(r.puts.length, 1, 'nothing was sent for the abandoned claim');
  });

  it('when DIS was unavailable, nothing was written and the retry runs again', async () => {
    const r = rig();
    r.answers.push(() => Promise.resolve(outcomeOf([failed('DIS.5000'), failed('DIS.5000')])));
    r.answers.push(() => Promise.resolve(outcomeOf([ok(1), ok(2)])));
    const first = await r.acceptRecords(keyed('k2'));
    assert.equal(first.kind, 'unavailable');
    assert.equal((await r.acceptRecords(keyed('k2'))).kind, 'written');
    assert.equal(r.puts.length, 2);
  });

  it('when the breaker refuses before sending, the key is released and nothing counts as a duplicate', async () => {
    const r = rig();
    r.answers.push(() => Promise.reject(new DisCircuitOpenError(3000)));
    const first = await r.acceptRecords(keyed('k3'));
    assert.deepEqual(
      first.kind === 'unavailable' ? [first.reason, first.retryAfterMs] : first.kind,
      ['suspended', 3000],
    );
    r.answers.push(() => Promise.resolve(outcomeOf([ok(1), ok(2)])));
    assert.equal((await r.acceptRecords(keyed('k3'))).kind, 'written');
    assert.deepEqual(r.duplicates, []);
  });

  it('an unknown outcome keeps the key locked and counts the records as possible duplicates', async () => {
    const r = rig();
    r.answers.push(() =>
      Promise.resolve(outcomeOf([failed('ERR_DIS_TIMEOUT'), failed('ERR_DIS_TIMEOUT')])),
    );
    const first = await r.acceptRecords(keyed('k4'));
    assert.deepEqual(first.kind === 'unknown' ? first.reason : first.kind, 'no-answer');
    assert.equal((await r.acceptRecords(keyed('k4'))).kind, 'in-progress');
    assert.deepEqual(r.duplicates, [2]);
  });

  it('a DIS answer after the wait settles the key: the retry replays the late verdict', async () => {
    const r = rig();
    const answer = r.answerLater();
    const first = await r.acceptRecords({ ...keyed('k5'), waitMs: 20 });
    assert.deepEqual(first.kind === 'unknown' ? [first.reason, first.idempotent] : first.kind, [
      'late',
      true,
    ]);
    assert.equal((await r.acceptRecords(keyed('k5'))).kind, 'in-progress');
    answer(outcomeOf([ok(7), ok(8)]));
    await r.settled();
    const replay = await r.acceptRecords(keyed('k5'));
    assert.equal(replay.kind, 'replayed');
    assert.equal(answerOf(replay).status, 200);
    assert.equal(r.puts.length, 1);
  });

  it('the same key with another body is a mismatch', async () => {
    const r = rig();
    r.answers.push(() => Promise.resolve(outcomeOf([ok(1), ok(2)])));
    await r.acceptRecords(keyed('k6'));
    const other = await r.acceptRecords({
      ...keyed('k6'),
      idempotency: { key: 'k6', fingerprint: 'f2' },
    });
    assert.equal(other.kind, 'mismatch');
  });
  it('when a replica does not confirm the stored verdict, the caller is told so and the records may be duplicates', async () => {
    const r = rig({ failCompletes: [new AppError('ERR_REDIS_REPLICATION_TIMEOUT')] });
    r.answers.push(() => Promise.resolve(outcomeOf([ok(1), failed('DIS.4303', 'record')])));
    const result = await r.acceptRecords(keyed('k7'));
    assert.deepEqual(
      result.kind === 'not-stored' ? [result.what, result.reason, result.failedCount] : result.kind,
      ['verdict', 'replication-timeout', 1],
    );
    assert.deepEqual(r.duplicates, [1]);
  });

  it('when Redis fails to store the verdict, it is stored again in the background for the retry to replay', async () => {
    const r = rig({ failCompletes: [new AppError('ERR_REDIS_UNAVAILABLE')] });
    r.answers.push(() => Promise.resolve(outcomeOf([ok(1), ok(2)])));
    const result = await r.acceptRecords(keyed('k8'));
    assert.deepEqual(
      result.kind === 'not-stored' ? result.reason : result.kind,
      'redis-unavailable',
    );
    await r.settled();
    assert.equal((await r.acceptRecords(keyed('k8'))).kind, 'replayed');
    assert.equal(r.puts.length, 1);
  });
});

describe('accepting a webhook delivery', () => {
  const delivery = (deliveryId: string, waitMs = 1000) => ({
    source: 'gh',
    deliveryId,
    stream,
    record: { data: Buffer.from('{}'), partitionKey: deliveryId },
    mode: 'sync' as const,
    waitMs,
    replayOnRedisDown: 'reject' as const,
  });

  it('a written delivery makes its redelivery a duplicate', async () => {
    const r = rig();
    r.answers.push(() => Promise.resolve(outcomeOf([ok(3)])));
    assert.deepEqual(await r.acceptDelivery(delivery('d1')), {
      kind: 'written',
      partitionId: 'shardId-0000000000',
      sequenceNumber: '3',
    });
    assert.deepEqual(await r.acceptDelivery(delivery('d1')), { kind: 'duplicate' });
    assert.equal(r.puts.length, 1);
  });

  it('a delivery DIS did not write is released, so the redelivery goes through', async () => {
    const r = rig();
    r.answers.push(() => Promise.resolve(outcomeOf([failed('DIS.4303', 'record')])));
    r.answers.push(() => Promise.resolve(outcomeOf([ok(4)])));
    assert.deepEqual(await r.acceptDelivery(delivery('d2')), { kind: 'not-written' });
    assert.equal((await r.acceptDelivery(delivery('d2'))).kind, 'written');
  });

  it('while a late write is unsettled a redelivery is in progress; once written, a duplicate', async () => {
    const r = rig();
    const answer = r.answerLater();
    assert.deepEqual(await r.acceptDelivery(delivery('d3', 20)), {
      kind: 'unknown',
      reason: 'late',
    });
    assert.deepEqual(await r.acceptDelivery(delivery('d3')), { kind: 'in-progress' });
    answer(outcomeOf([ok(5)]));
    await r.settled();
    assert.deepEqual(await r.acceptDelivery(delivery('d3')), { kind: 'duplicate' });
    assert.deepEqual(r.duplicates, []);
  });
});

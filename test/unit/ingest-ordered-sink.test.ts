import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PutRecordsOutcome } from '../../src/dis/client.ts';
import { DisCircuitOpenError } from '../../src/dis/errors.ts';
import { failedVerdict, type RecordVerdict } from '../../src/dis/verdicts.ts';
import type { PutRequest, RecordSink } from '../../src/ingest/ingest.ts';
import { createOrderedSink, ORDERING_ABORTED_CODE } from '../../src/ingest/ordered-sink.ts';

// The lanes of a per-key stream over a sink the test answers by hand: what goes to DIS when, and
// what comes back to each caller. (The same over the real batcher, client and emulator is in
// test/component/batching-isolation.test.ts.)

interface Sent {
  readonly request: PutRequest;
  answer(verdicts: readonly RecordVerdict[]): void;
  refuse(error: unknown): void;
}

function handSink(): { sink: RecordSink; sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    sink: {
      put: (request) =>
        new Promise<PutRecordsOutcome>((resolve, reject) => {
          sent.push({
            request,
            answer: (verdicts) => {
              resolve({
                verdicts: [...verdicts],
                failedCount: verdicts.filter((v) => v.status === 'failed').length,
                requests: 1,
                possibleDuplicates: 0,
              });
            },
            refuse: reject,
          });
        }),
    },
  };
}

const ok = (n: number): RecordVerdict => ({
  status: 'ok',
  partitionId: 'shardId-0000000000',
  sequenceNumber: String(n),
});
const throttled = failedVerdict('record', 'DIS.4303', 'Exceeded traffic control limit.', true, 50);

function request(
  keys: readonly (string | undefined)[],
  deadlineMs = 5000,
  stream = 's',
): PutRequest {
  return {
    target: { name: stream, disStream: stream, ordering: 'per_key' },
    entries: keys.map((key, i) => ({ data: Buffer.from(`${key ?? '-'}${i}`).toString('base64') })),
    bytes: keys.length * 4,
    deadline: Date.now() + deadlineMs,
    keys,
  };
}

const dataOf = (s: Sent): string[] =>
  s.request.entries.map((e) => Buffer.from(e.data, 'base64').toString());

describe('per-key lanes', () => {
  it('a key has one record with DIS at a time; the next goes when it is written; other keys go at once', async () => {
    const { sink, sent } = handSink();
    const lanes = createOrderedSink({ inner: sink, now: Date.now });
    const first = lanes.put(request(['a', 'a', 'b', undefined]));
    const second = lanes.put(request(['a', 'c']));
    assert.deepEqual(sent.map(dataOf), [['a0', 'b2', '-3'], ['c1']]);
    sent[0]?.answer([ok(1), ok(2), ok(3)]);
    await sleep(0);
    assert.deepEqual(dataOf(sent[2] as Sent), ['a1'], 'the second a of the first caller');
    sent[1]?.answer([ok(4)]);
    sent[2]?.answer([ok(5)]);
    await sleep(0);
    assert.deepEqual(dataOf(sent[3] as Sent), ['a0'], 'then the second caller’s a');
    sent[3]?.answer([ok(6)]);
    assert.equal((await first).failedCount, 0);
    const last = await second;
    assert.deepEqual(
      last.verdicts.map((v) => (v.status === 'ok' ? v.sequenceNumber : v.errorCode)),
      ['6', '4'],
    );
  });

  it('when a record of a key fails, those queued behind it come back ERR_ORDERING_ABORTED and are never sent', async () => {
    const { sink, sent } = handSink();
    const lanes = createOrderedSink({ inner: sink, now: Date.now });
    const first = lanes.put(request(['a', 'a']));
    const second = lanes.put(request(['a', 'b']));
    sent[0]?.answer([throttled]);
    sent[1]?.answer([ok(1)]);
    const a = await first;
    const b = await second;
    assert.deepEqual(
      a.verdicts.map((v) => v.status === 'failed' && [v.errorCode, v.retryable]),
      [
        ['DIS.4303', true],
        [ORDERING_ABORTED_CODE, true],
      ],
    );
    assert.equal(
      b.verdicts[0]?.status === 'failed' && b.verdicts[0].errorCode,
      ORDERING_ABORTED_CODE,
    );
    assert.equal(b.verdicts[1]?.status, 'ok');
    assert.equal(sent.length, 2, 'nothing of the aborted ones went to DIS');
    // The lane is free again: a later record of the key goes at once.
    void lanes.put(request(['a']));
    assert.equal(sent.length, 3);
  });

  it('a caller whose wait ends while its record is queued gets it back not sent, and the records behind it are aborted', async () => {
    const { sink, sent } = handSink();
    const lanes = createOrderedSink({ inner: sink, now: Date.now });
    const holder = lanes.put(request(['a']));
    const short = lanes.put(request(['a'], 60));
    const behind = lanes.put(request(['a']));
    const s = await short;
    assert.equal(s.verdicts[0]?.status === 'failed' && s.verdicts[0].errorCode, 'ERR_DIS_NOT_SENT');
    const b = await behind;
    assert.equal(
      b.verdicts[0]?.status === 'failed' && b.verdicts[0].errorCode,
      ORDERING_ABORTED_CODE,
    );
    sent[0]?.answer([ok(1)]);
    assert.equal((await holder).failedCount, 0);
    assert.equal(sent.length, 1);
  });

  it('a refusal of a call’s only wave reaches its caller as such; a later wave’s becomes its records’ verdicts', async () => {
    const { sink, sent } = handSink();
    const lanes = createOrderedSink({ inner: sink, now: Date.now });
    const refused = lanes.put(request(['x']));
    sent[0]?.refuse(new DisCircuitOpenError(1000));
    await assert.rejects(refused, DisCircuitOpenError);

    const two = lanes.put(request(['y', 'y']));
    sent[1]?.answer([ok(1)]);
    await sleep(0);
    sent[2]?.refuse(new DisCircuitOpenError(1000));
    const outcome = await two;
    assert.deepEqual(
      outcome.verdicts.map((v) => (v.status === 'ok' ? 'ok' : v.errorCode)),
      ['ok', 'ERR_DIS_CIRCUIT_OPEN'],
    );
  });

  it('a request without keys (a stream without ordering) passes straight through', async () => {
    const { sink, sent } = handSink();
    const lanes = createOrderedSink({ inner: sink, now: Date.now });
    const plain: PutRequest = { ...request(['a', 'a']), keys: undefined };
    const pending = lanes.put(plain);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.request, plain);
    sent[0].answer([ok(1), ok(2)]);
    assert.equal((await pending).failedCount, 0);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PutRecordsOutcome } from '../../src/dis/client.ts';
import {
  BatcherOverloadedError,
  createBatcher,
  type BatcherOptions,
} from '../../src/ingest/batcher.ts';
import {
  startClientAndEmulator,
  uniqueEntries,
  uniqueStreamName,
  type ClientAndEmulator,
} from '../helpers/dis-fixtures.ts';

describe('micro-batching per DIS stream', () => {
  let env: ClientAndEmulator;
  let stream: string;
  before(async () => {
    env = await startClientAndEmulator({ throttling: false });
    stream = uniqueStreamName('batch');
    await env.management.createStream({ stream_name: stream, partition_count: 2 });
  });
  after(() => env.close());

  const batcher = (overrides: Partial<BatcherOptions> = {}) =>
    createBatcher({
      client: env.client,
      lingerMs: 0,
      maxRecords: 500,
      maxBytes: 4 * 1024 * 1024,
      maxInFlight: 4,
      maxQueuedRecords: 10_000,
      now: Date.now,
      monotonicNow: () => performance.now(),
      ...overrides,
    });
  const putCalls = () => env.emulator.state.stats.requests.PutRecords ?? 0;
  const put = (b: ReturnType<typeof batcher>, entries: { data: string }[], deadlineMs = 5000) =>
    b.put({
      target: { name: 'x', disStream: stream },
      entries,
      bytes: entries.reduce((sum, e) => sum + Buffer.from(e.data, 'base64').length, 0),
      deadline: Date.now() + deadlineMs,
    });

  function storedBySequence(): Map<string, string> {
    return new Map(
      env.emulator.state
        .records(stream)
        .flatMap((p) =>
          p.records.map((r) => [
            `${p.partitionId}/${String(r.sequenceNumber)}`,
            r.data.toString('base64'),
          ]),
        ),
    );
  }

  function assertOwnVerdicts(outcome: PutRecordsOutcome, entries: { data: string }[]): void {
    const stored = storedBySequence();
    assert.equal(outcome.verdicts.length, entries.length);
    outcome.verdicts.forEach((v, i) => {
      assert.ok(v.status === 'ok');
      assert.equal(
        stored.get(`${v.partitionId}/${v.sequenceNumber}`),
        entries[i]?.data,
        `record ${i}`,
      );
    });
  }

  it('coalesces concurrent requests into one PutRecords and gives each caller exactly its own verdicts', async () => {
    const b = batcher();
    const requests = Array.from({ length: 50 }, () => uniqueEntries(3));
    const before = putCalls();
    const outcomes = await Promise.all(requests.map((entries) => put(b, entries)));
    assert.equal(putCalls() - before, 1, '50 concurrent requests, one DIS call');
    outcomes.forEach((o, i) => {
      assertOwnVerdicts(o, requests[i] ?? []);
    });
  });

  it('while a call is in flight, records gather and go together as soon as it returns', async () => {
    env.emulator.faults.setLatency(100);
    try {
      const b = batcher();
      const before = putCalls();
      const first = put(b, uniqueEntries(1));
      await new Promise((r) => setTimeout(r, 20));
      const later = Array.from({ length: 10 }, () => uniqueEntries(2));
      const outcomes = await Promise.all([first, ...later.map((entries) => put(b, entries))]);
      assert.equal(
        putCalls() - before,
        2,
        'the first call, then one with everything that gathered',
      );
      outcomes.slice(1).forEach((o, i) => {
        assertOwnVerdicts(o, later[i] ?? []);
      });
    } finally {
      env.emulator.faults.clear();
    }
  });

  it('flushes at the record limit and caps DIS calls in flight', async () => {
    env.emulator.faults.setLatency(100);
    try {
      const b = batcher({ maxRecords: 10, maxInFlight: 2 });
      const requests = Array.from({ length: 12 }, () => uniqueEntries(5));
      const before = putCalls();
      const started = Date.now();
      const outcomes = await Promise.all(requests.map((entries) => put(b, entries)));
      const elapsed = Date.now() - started;
      assert.equal(putCalls() - before, 6, '60 records in batches of 10');
      assert.ok(elapsed >= 250, `two at a time: three rounds of 100 ms (${elapsed} ms)`);
      outcomes.forEach((o, i) => {
        assertOwnVerdicts(o, requests[i] ?? []);
      });
    } finally {
      env.emulator.faults.clear();
    }
  });

  it('with a linger, waits for more records; a caller whose deadline is near is flushed at once', async () => {
    const b = batcher({ lingerMs: 200 });
    const before = putCalls();
    const first = put(b, uniqueEntries(1));
    await new Promise((r) => setTimeout(r, 50));
    const second = put(b, uniqueEntries(1));
    await Promise.all([first, second]);
    assert.equal(putCalls() - before, 1, 'both in one call after the linger');

    const urgent = Date.now();
    await put(b, uniqueEntries(1), 100);
    assert.ok(Date.now() - urgent < 150, 'a deadline inside the linger flushes now');
  });

  it('with a linger, records that arrive while a call is in flight still wait out their own linger', async () => {
    env.emulator.faults.setLatency(150);
    try {
      const b = batcher({ lingerMs: 200 });
      const before = putCalls();
      const t0 = Date.now();
      const at = (ms: number) =>
        new Promise((r) => setTimeout(r, Math.max(0, t0 + ms - Date.now())));
      const first = put(b, uniqueEntries(1)); // sent at ~200 ms, answered at ~350 ms
      await at(280);
      const secondAt = Date.now();
      const second = put(b, uniqueEntries(1)); // in flight: the first call; lingers until ~480 ms
      await first;
      await at(400);
      const third = put(b, uniqueEntries(1)); // inside the second one's linger
      await Promise.all([second, third]);
      const waited = Date.now() - secondAt;
      assert.ok(
        waited >= 190,
        `the second waited its linger (${waited} ms), not only the first call`,
      );
      assert.equal(putCalls() - before, 2, 'the first alone, then the second and third together');
    } finally {
      env.emulator.faults.clear();
    }
  });

  it('keeps per-record retries: records DIS throttles are resent and each caller sees its final verdicts', async () => {
    env.emulator.faults.failRecords({
      share: 0.5,
      errorCode: 'DIS.4303',
      errorMessage: 'Exceeded traffic control limit.',
    });
    try {
      const b = batcher();
      const requests = Array.from({ length: 10 }, () => uniqueEntries(4));
      const outcomes = await Promise.all(requests.map((entries) => put(b, entries, 10_000)));
      outcomes.forEach((o, i) => {
        assertOwnVerdicts(o, requests[i] ?? []);
      });
    } finally {
      env.emulator.faults.clear();
    }
  });

  it('refuses new requests at once when too many records wait, and loses none it accepted', async () => {
    env.emulator.faults.setLatency(200);
    try {
      const b = batcher({ maxQueuedRecords: 20, maxInFlight: 1, maxRecords: 10 });
      const accepted = [put(b, uniqueEntries(10)), put(b, uniqueEntries(10))];
      const more: Promise<PutRecordsOutcome>[] = [];
      // The first batch is in flight; 10 wait; 10 more fit, 11 would not.
      more.push(put(b, uniqueEntries(10)));
      await assert.rejects(put(b, uniqueEntries(11)), BatcherOverloadedError);
      const outcomes = await Promise.all([...accepted, ...more]);
      for (const o of outcomes) assert.equal(o.failedCount, 0);
    } finally {
      env.emulator.faults.clear();
    }
  });

  it('takes a request larger than the queue bound into an empty queue only', async () => {
    env.emulator.faults.setLatency(100);
    try {
      const b = batcher({ maxQueuedRecords: 20, maxInFlight: 1, maxRecords: 10 });
      // 10 records in flight, nothing waiting: 35 are taken although the bound is 20.
      const first = put(b, uniqueEntries(10));
      const big = put(b, uniqueEntries(35));
      // Now 35 wait: another request does not fit, however small.
      await assert.rejects(put(b, uniqueEntries(1)), BatcherOverloadedError);
      assert.equal((await first).failedCount, 0);
      assert.equal((await big).failedCount, 0);
      assert.equal((await put(b, uniqueEntries(35))).failedCount, 0);
    } finally {
      env.emulator.faults.clear();
    }
  });

  it('callers sharing a call keep their own deadlines: a short wait is answered at its end, a long one is still written', async () => {
    env.emulator.faults.failRecords({ share: 1, errorCode: 'DIS.4303' });
    const clear = setTimeout(() => {
      env.emulator.faults.clear();
    }, 900);
    try {
      // Enough attempts that the deadline, not the count of fruitless attempts, ends the retries.
      const b = batcher({ lingerMs: 30, client: env.clientWith({ maxAttempts: 100 }) });
      const started = Date.now();
      const shortEntries = uniqueEntries(2);
      const longEntries = uniqueEntries(3);
      const before = putCalls();
      const short = put(b, shortEntries, 400).then((o) => ({ o, at: Date.now() - started }));
      const long = put(b, longEntries, 5000).then((o) => ({ o, at: Date.now() - started }));
      const first = await short;
      assert.ok(first.at < 800, `the short caller is answered at its deadline (${first.at} ms)`);
      for (const v of first.o.verdicts) {
        assert.ok(v.status === 'failed' && v.retryable && v.errorCode === 'DIS.4303');
      }
      const second = await long;
      assert.equal(second.o.failedCount, 0, 'the long caller’s records are written after all');
      assert.ok(second.at >= 900);
      assertOwnVerdicts(second.o, longEntries);
      assert.ok(putCalls() - before >= 2);
    } finally {
      clearTimeout(clear);
      env.emulator.faults.clear();
    }
  });

  it('a record DIS refuses whole fails alone: the other callers of its batch are written', async () => {
    const b = batcher({ lingerMs: 30 });
    const good = [uniqueEntries(4), uniqueEntries(5), uniqueEntries(3)];
    // A partition this 2-partition stream no longer has (a producer behind a scale-down).
    const bad = uniqueEntries(3).map((e, i) =>
      i === 1 ? { ...e, partition_id: 'shardId-0000000009' } : e,
    );
    const before = putCalls();
    const [a, refused, c, d] = await Promise.all([
      put(b, good[0] ?? []),
      put(b, bad),
      put(b, good[1] ?? []),
      put(b, good[2] ?? []),
    ]);
    for (const [outcome, entries] of [
      [a, good[0]],
      [c, good[1]],
      [d, good[2]],
    ] as const) {
      assertOwnVerdicts(outcome, entries ?? []);
    }
    assert.deepEqual(
      refused.verdicts.map((v) => (v.status === 'ok' ? 'ok' : v.errorCode)),
      ['ok', 'DIS.4201', 'ok'],
    );
    // The whole refusal; one part per caller (4); the bad caller's halves [0, 1] (refused) and [2];
    // then [0] and [1] alone.
    assert.equal(putCalls() - before, 9);
  });

  it('keeps the earliest deadline without scanning: after the earliest caller leaves, the next earliest still forces a flush', async () => {
    env.emulator.faults.setLatency(150);
    try {
      const b = batcher({ lingerMs: 10_000, maxInFlight: 1 });
      const started = Date.now();
      // The first goes at once (its deadline is near); the second, queued behind it with a
      // deadline 700 ms out, must go before its deadline, not after the 10 s linger.
      const first = put(b, uniqueEntries(1), 100);
      const second = put(b, uniqueEntries(1), 700);
      const late = put(b, uniqueEntries(1), 60_000);
      assert.equal((await first).failedCount, 0);
      assert.equal((await second).failedCount, 0);
      assert.ok(Date.now() - started < 1500);
      assert.equal((await late).failedCount, 0);
    } finally {
      env.emulator.faults.clear();
    }
  });
});

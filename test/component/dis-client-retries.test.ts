import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RecordVerdict } from '../../src/dis/verdicts.ts';
import { DisCircuitOpenError } from '../../src/dis/errors.ts';
import { classifyOutcome } from '../../src/ingest/outcome.ts';
import {
  seededRandom,
  startClientAndEmulator,
  uniqueEntries,
  uniqueStreamName,
  type ClientAndEmulator,
} from '../helpers/dis-fixtures.ts';

function storedData(env: ClientAndEmulator, stream: string): string[] {
  return env.emulator.state
    .records(stream)
    .flatMap((p) => p.records.map((r) => r.data.toString('base64')));
}

function putRequests(env: ClientAndEmulator): number {
  return env.emulator.state.stats.requests.PutRecords ?? 0;
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

const codeOf = (v: RecordVerdict): string => (v.status === 'ok' ? 'ok' : v.errorCode);

describe('when DIS throttles a burst over a 1-partition stream', () => {
  let env: ClientAndEmulator;
  before(async () => {
    env = await startClientAndEmulator();
  });
  after(() => env.close());

  it('every record ends written or failed with retryable: true at the deadline, none lost, none twice', async (t) => {
    const stream = uniqueStreamName('burst');
    await env.management.createStream({ stream_name: stream, partition_count: 1 });
    const entries = uniqueEntries(3000, 40);
    const before = putRequests(env);
    const outcome = await env.client.putRecords({
      streamName: stream,
      records: entries,
      deadline: Date.now() + 1500,
    });
    const requests = putRequests(env) - before;
    const stored = storedData(env, stream);
    const ok = outcome.verdicts.filter((v) => v.status === 'ok');
    const failed = outcome.verdicts.filter((v) => v.status === 'failed');

    assert.equal(outcome.verdicts.length, entries.length);
    assert.ok(ok.length >= 1000, `at least the first second's budget is written (${ok.length})`);
    assert.ok(failed.length > 0, 'a 3,000-record burst cannot fit 1,000 records/s in 1.5 s');
    for (const v of failed) {
      assert.equal(v.errorCode, 'DIS.4303');
      assert.equal(v.retryable, true);
      assert.ok((v.retryAfterMs ?? 0) > 0, 'a retry hint is given');
    }
    // None lost, none twice: stored exactly the records reported ok, each once, at the reported place.
    assert.equal(stored.length, ok.length);
    assert.equal(new Set(stored).size, stored.length);
    const storedSet = new Set(stored);
    const bySequence = new Map(
      env.emulator.state
        .records(stream)
        .flatMap((p) =>
          p.records.map((r) => [String(r.sequenceNumber), r.data.toString('base64')]),
        ),
    );
    outcome.verdicts.forEach((v, i) => {
      const data = entries[i]?.data ?? '';
      if (v.status === 'ok') assert.equal(bySequence.get(v.sequenceNumber), data, `record ${i}`);
      else assert.equal(storedSet.has(data), false, `failed record ${i} is not in DIS`);
    });
    assert.ok(requests > 6, `only the throttled records were resent (${requests} requests)`);
    t.diagnostic(
      `burst: ${ok.length} written, ${failed.length} failed retryable at the 1.5 s deadline, ${requests} PutRecords requests`,
    );
  });

  it('with time enough, the retries write every record exactly once', async () => {
    const stream = uniqueStreamName('burst-ok');
    await env.management.createStream({ stream_name: stream, partition_count: 1 });
    const entries = uniqueEntries(1800, 40);
    const outcome = await env.client.putRecords({
      streamName: stream,
      records: entries,
      deadline: Date.now() + 8000,
    });
    assert.equal(outcome.failedCount, 0);
    const stored = storedData(env, stream);
    assert.deepEqual([...stored].sort(), entries.map((e) => e.data).sort());
    assert.ok((env.emulator.state.stats.recordsFailed['DIS.4303'] ?? 0) > 0, 'DIS did throttle');
  });
});

describe('what the client retries', () => {
  let env: ClientAndEmulator;
  let stream: string;
  before(async () => {
    env = await startClientAndEmulator({ random: seededRandom(7) });
    stream = uniqueStreamName('faults');
    await env.management.createStream({ stream_name: stream, partition_count: 2 });
  });
  after(() => env.close());

  const put = (records = uniqueEntries(20), deadlineMs = 3000) =>
    env.client.putRecords({ streamName: stream, records, deadline: Date.now() + deadlineMs });

  it('retries 5xx answers and then writes every record once', async () => {
    env.emulator.faults.failNext({ count: 2, operation: 'PutRecords', status: 500, shape: 'dis' });
    const before = putRequests(env);
    const entries = uniqueEntries(20);
    const outcome = await put(entries);
    assert.equal(outcome.failedCount, 0);
    assert.equal(putRequests(env) - before, 3);
    assert.equal(outcome.possibleDuplicates, 0);
    const stored = new Set(storedData(env, stream));
    for (const e of entries) assert.ok(stored.has(e.data));
  });

  it('retries 429 and honours its Retry-After', async () => {
    env.emulator.faults.failNext({
      count: 1,
      operation: 'PutRecords',
      status: 429,
      shape: 'apigw',
      code: 'APIGW.0308',
    });
    const before = putRequests(env);
    const outcome = await put();
    assert.equal(outcome.failedCount, 0);
    assert.equal(putRequests(env) - before, 2);
  });

  it('retries a request-level DIS.4303', async () => {
    env.emulator.faults.failNext({
      count: 1,
      operation: 'PutRecords',
      status: 400,
      shape: 'dis',
      code: 'DIS.4303',
    });
    const outcome = await put();
    assert.equal(outcome.failedCount, 0);
  });

  it('when the connection resets before the records are stored, the resend writes them once and counts possible duplicates', async () => {
    env.emulator.faults.resetConnections({ count: 1, when: 'before-store' });
    const entries = uniqueEntries(10);
    const outcome = await put(entries);
    assert.equal(outcome.failedCount, 0);
    assert.equal(
      outcome.possibleDuplicates,
      10,
      'the client cannot know the first try was not stored',
    );
    const stored = storedData(env, stream);
    for (const e of entries) assert.equal(stored.filter((d) => d === e.data).length, 1);
  });

  it('when the connection resets after the records are stored, the resend is at-least-once and counted', async () => {
    env.emulator.faults.resetConnections({ count: 1, when: 'after-store' });
    const entries = uniqueEntries(10);
    const outcome = await put(entries);
    assert.equal(outcome.failedCount, 0);
    assert.equal(outcome.possibleDuplicates, 10);
    const stored = storedData(env, stream);
    for (const e of entries) assert.equal(stored.filter((d) => d === e.data).length, 2);
  });

  it('a chunk that went unanswered once stays possibly written, even when its last attempt got a 503', async () => {
    // Backoff without jitter (random 1): 300 ms after the reset, time to script the 503s.
    const client = env.clientWith({
      backoff: { initialDelayMs: 300, maxDelayMs: 300 },
      random: () => 1,
    });
    env.emulator.faults.resetConnections({ count: 1, when: 'after-store' });
    const requests = putRequests(env);
    try {
      const entries = uniqueEntries(5);
      const pending = client.putRecords({
        streamName: stream,
        records: entries,
        deadline: Date.now() + 1000,
      });
      while (putRequests(env) === requests) await new Promise((r) => setTimeout(r, 2));
      env.emulator.faults.failNext({ count: 1000, operation: 'PutRecords', status: 503 });
      const outcome = await pending;
      const stored = storedData(env, stream);
      for (const e of entries) assert.equal(stored.filter((d) => d === e.data).length, 1);
      for (const v of outcome.verdicts) {
        assert.ok(v.status === 'failed', 'DIS answered 503 last');
        assert.equal(v.possiblyWritten, true, 'yet the first attempt may have written it (it did)');
      }
      assert.equal(classifyOutcome(outcome).kind, 'unknown');
    } finally {
      env.emulator.faults.clear();
    }
  });

  it('resends only the records DIS failed with DIS.5xxx', async () => {
    env.emulator.faults.failRecords({
      share: 0.5,
      errorCode: 'DIS.5250',
      errorMessage: 'System error.',
    });
    try {
      const entries = uniqueEntries(200);
      const before = env.emulator.state.stats.recordsWritten;
      const outcome = await env.clientWith({ maxAttempts: 40 }).putRecords({
        streamName: stream,
        records: entries,
        deadline: Date.now() + 10_000,
      });
      assert.equal(outcome.failedCount, 0);
      assert.equal(env.emulator.state.stats.recordsWritten - before, 200, 'nothing written twice');
      assert.ok(outcome.requests > 2);
    } finally {
      env.emulator.faults.clear();
    }
  });

  it('does not resend records failed with another code', async () => {
    env.emulator.faults.failRecords({
      share: 1,
      errorCode: 'DIS.4302',
      errorMessage: 'Partition does not exist.',
    });
    try {
      const before = putRequests(env);
      const outcome = await put(uniqueEntries(5));
      assert.equal(putRequests(env) - before, 1);
      for (const v of outcome.verdicts) {
        assert.deepEqual(v, {
          status: 'failed',
          errorCode: 'DIS.4302',
          errorMessage: 'Partition does not exist.',
          retryable: false,
          origin: 'record',
        });
      }
    } finally {
      env.emulator.faults.clear();
    }
  });

  for (const [status, shape, code, records] of [
    [400, 'dis', 'DIS.4200', 1],
    [401, 'apigw', 'APIGW.0301', 3],
    [403, 'dis', 'DIS.4116', 3],
    [413, 'dis', 'DIS.4200', 1],
  ] as const) {
    it(`does not retry ${status} ${code} (${records} record${records > 1 ? 's' : ''})`, async () => {
      env.emulator.faults.failNext({ count: 1, operation: 'PutRecords', status, shape, code });
      const before = putRequests(env);
      const outcome = await put(uniqueEntries(records));
      assert.equal(putRequests(env) - before, 1);
      assert.deepEqual(countBy(outcome.verdicts, codeOf), { [code]: records });
      for (const v of outcome.verdicts) assert.ok(v.status === 'failed' && !v.retryable);
    });
  }

  it('a whole-request refusal that may name a record is resent in halves: the good records are written', async () => {
    // One refusal (the fault), then the halves go through: nothing was at fault after all.
    const events: { code: string; records: number; parts: number }[] = [];
    const client = env.clientWith({ events: { isolation: (e) => events.push(e) } });
    env.emulator.faults.failNext({
      count: 1,
      operation: 'PutRecords',
      status: 400,
      code: 'DIS.4200',
    });
    const before = putRequests(env);
    const outcome = await client.putRecords({
      streamName: stream,
      records: uniqueEntries(6),
      deadline: Date.now() + 3000,
    });
    assert.equal(putRequests(env) - before, 3, 'the refused request and its two halves');
    assert.deepEqual(countBy(outcome.verdicts, codeOf), { ok: 6 });
    assert.deepEqual(events, [{ code: 'DIS.4200', records: 6, parts: 2 }]);
  });

  it('isolation narrows a refusal down to the record at fault (a partition id the stream lost) and writes the rest', async () => {
    const entries = uniqueEntries(16);
    // The stream has 2 partitions: shardId-0000000007 is what a producer still sends after a
    // scale-down, and DIS refuses the whole request for it (DIS.4201).
    const bad = 11;
    const records = entries.map((e, i) =>
      i === bad ? { ...e, partition_id: 'shardId-0000000007' } : e,
    );
    const before = putRequests(env);
    const written = env.emulator.state.stats.recordsWritten;
    const outcome = await put(records);
    const requests = putRequests(env) - before;
    assert.deepEqual(countBy(outcome.verdicts, codeOf), { ok: 15, 'DIS.4201': 1 });
    const verdict = outcome.verdicts[bad];
    assert.ok(verdict?.status === 'failed' && !verdict.retryable);
    assert.equal(env.emulator.state.stats.recordsWritten - written, 15, 'each good record once');
    // 16 → 8 → 4 → 2 → 1: one refused request per level and the good halves: 1 + 2 × 4.
    assert.equal(requests, 9);
  });

  it('without an isolation budget (max_isolation_requests 0) a refusal fails every record, as DIS said', async () => {
    const client = env.clientWith({ limits: { maxIsolationRequests: 0 } });
    const records = uniqueEntries(4).map((e, i) =>
      i === 0 ? { ...e, partition_id: 'shardId-0000000007' } : e,
    );
    const before = putRequests(env);
    const outcome = await client.putRecords({
      streamName: stream,
      records,
      deadline: Date.now() + 3000,
    });
    assert.equal(putRequests(env) - before, 1);
    assert.deepEqual(countBy(outcome.verdicts, codeOf), { 'DIS.4201': 4 });
  });

  it('an isolation budget that runs out leaves the records not yet isolated failed with DIS’s code', async () => {
    const client = env.clientWith({ limits: { maxIsolationRequests: 2 } });
    const records = uniqueEntries(8).map((e, i) =>
      i === 7 ? { ...e, partition_id: 'shardId-0000000007' } : e,
    );
    const before = putRequests(env);
    const outcome = await client.putRecords({
      streamName: stream,
      records,
      deadline: Date.now() + 3000,
    });
    // 8 refused → halves 0–3 (written) and 4–7 (refused, no budget left for another split).
    assert.equal(putRequests(env) - before, 3);
    assert.deepEqual(countBy(outcome.verdicts, codeOf), { ok: 4, 'DIS.4201': 4 });
  });

  it('records of callers sharing a call keep their own deadlines: a short one stops, the others are retried', async () => {
    env.emulator.faults.failRecords({ share: 1, errorCode: 'DIS.4303' });
    const settledAt = new Map<number, number>();
    const started = Date.now();
    const pending = env
      .clientWith({ backoff: { initialDelayMs: 50, maxDelayMs: 100 }, maxAttempts: 100 })
      .putRecords({
        streamName: stream,
        records: uniqueEntries(4),
        deadline: started + 2000,
        groups: [
          { end: 2, deadline: started + 300 },
          { end: 4, deadline: started + 2000 },
        ],
        onVerdict: (index) => settledAt.set(index, Date.now() - started),
      });
    // Let the throttling end after the short caller's deadline: only the long one's records land.
    setTimeout(() => {
      env.emulator.faults.clear();
    }, 700).unref();
    const outcome = await pending;
    assert.deepEqual(outcome.verdicts.map(codeOf), ['DIS.4303', 'DIS.4303', 'ok', 'ok']);
    for (const index of [0, 1]) {
      const at = settledAt.get(index) ?? Infinity;
      assert.ok(at < 600, `record ${index} was reported at its caller's deadline (${at} ms)`);
      const v = outcome.verdicts[index];
      assert.ok(v?.status === 'failed' && v.retryable);
    }
    for (const index of [2, 3]) assert.ok((settledAt.get(index) ?? 0) >= 650);
  });

  it('does not retry an unknown stream', async () => {
    const before = putRequests(env);
    const outcome = await env.client.putRecords({
      streamName: uniqueStreamName('missing'),
      records: uniqueEntries(2),
      deadline: Date.now() + 2000,
    });
    assert.equal(putRequests(env) - before, 1);
    assert.deepEqual(countBy(outcome.verdicts, codeOf), { 'DIS.4301': 2 });
  });

  it('when DIS answers after the deadline but within the request timeout, that answer is the verdict and nothing is sent twice', async () => {
    env.emulator.faults.setLatency(700);
    try {
      const requests = putRequests(env);
      const started = Date.now();
      const outcome = await put(uniqueEntries(4), 200);
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 650, `waited for the answer in flight (${elapsed} ms)`);
      assert.deepEqual(countBy(outcome.verdicts, codeOf), { ok: 4 });
      assert.equal(putRequests(env) - requests, 1, 'no attempt started after the deadline');
      assert.equal(outcome.possibleDuplicates, 0);
    } finally {
      env.emulator.faults.clear();
    }
  });

  it('chunks whose turn comes after the deadline are not sent, and say so (ERR_DIS_NOT_SENT, retryable)', async () => {
    const client = env.clientWith({
      limits: { maxRecordsPerRequest: 10, maxConcurrentRequests: 2 },
    });
    env.emulator.faults.setLatency(400);
    try {
      const requests = putRequests(env);
      const outcome = await client.putRecords({
        streamName: stream,
        records: uniqueEntries(60),
        deadline: Date.now() + 200,
      });
      assert.equal(putRequests(env) - requests, 2, 'the two chunks sent before the deadline');
      assert.deepEqual(countBy(outcome.verdicts, codeOf), { ok: 20, ERR_DIS_NOT_SENT: 40 });
      for (const v of outcome.verdicts) if (v.status === 'failed') assert.equal(v.retryable, true);
    } finally {
      env.emulator.faults.clear();
    }
  });

  it('when DIS does not answer within the request timeout, the records come back failed ERR_DIS_TIMEOUT, retryable', async () => {
    const client = env.clientWith({ timeouts: { headersMs: 300, bodyMs: 300 } });
    env.emulator.faults.setLatency(1500);
    try {
      const started = Date.now();
      const outcome = await client.putRecords({
        streamName: stream,
        records: uniqueEntries(4),
        deadline: Date.now() + 100,
      });
      const elapsed = Date.now() - started;
      assert.ok(
        elapsed < 1500,
        `gave up at the request timeout, before DIS answered (${elapsed} ms)`,
      );
      for (const v of outcome.verdicts) {
        assert.ok(v.status === 'failed');
        assert.equal(v.errorCode, 'ERR_DIS_TIMEOUT');
        assert.equal(v.retryable, true);
      }
    } finally {
      env.emulator.faults.clear();
    }
  });
});

describe('when DIS cannot be reached', () => {
  it('the records come back failed with ERR_DIS_UNREACHABLE and retryable: true', async () => {
    const env = await startClientAndEmulator();
    const url = env.emulator.url;
    await env.close();
    const { createDisClient } = await import('../../src/dis/client.ts');
    const client = createDisClient({
      endpoint: url,
      projectId: env.emulator.projectId,
      auth: { type: 'aksk', credentials: { ak: 'a', sk: 'b' } },
      backoff: { initialDelayMs: 10, maxDelayMs: 50 },
    });
    try {
      const outcome = await client.putRecords({
        streamName: 's',
        records: uniqueEntries(3),
        deadline: Date.now() + 300,
      });
      assert.ok(outcome.requests > 1, 'connection errors are retried');
      assert.equal(outcome.possibleDuplicates, 0, 'nothing was sent');
      assert.deepEqual(countBy(outcome.verdicts, codeOf), { ERR_DIS_UNREACHABLE: 3 });
      for (const v of outcome.verdicts) assert.ok(v.status === 'failed' && v.retryable);
    } finally {
      await client.close();
    }
  });
});

describe('circuit breaker', () => {
  it('opens after repeated 401, fails fast without reaching DIS, and recovers after its cool-down', async () => {
    const env = await startClientAndEmulator();
    try {
      const stream = uniqueStreamName('breaker');
      await env.management.createStream({ stream_name: stream, partition_count: 1 });
      const client = env.clientWith({ breaker: { failureThreshold: 3, coolDownMs: 300 } });
      env.emulator.faults.failNext({
        count: 4,
        operation: 'PutRecords',
        status: 401,
        shape: 'apigw',
        code: 'APIGW.0301',
      });
      const put = () =>
        client.putRecords({
          streamName: stream,
          records: uniqueEntries(1),
          deadline: Date.now() + 2000,
        });

      for (let i = 0; i < 3; i++) {
        const outcome = await put();
        assert.equal(
          codeOf(outcome.verdicts[0] ?? { status: 'ok', partitionId: '', sequenceNumber: '' }),
          'APIGW.0301',
        );
      }
      assert.equal(client.breakerState(), 'open');
      const reached = putRequests(env);
      await assert.rejects(
        put(),
        (e: unknown) => e instanceof DisCircuitOpenError && e.code === 'ERR_DIS_CIRCUIT_OPEN',
      );
      assert.equal(putRequests(env), reached, 'an open breaker does not call DIS');

      await new Promise((r) => setTimeout(r, 350));
      assert.equal(client.breakerState(), 'half-open');
      const probe = await put(); // the 4th scripted 401: the probe fails, the breaker opens again
      assert.equal(probe.failedCount, 1);
      assert.equal(client.breakerState(), 'open');

      await new Promise((r) => setTimeout(r, 350));
      const recovered = await put();
      assert.equal(recovered.failedCount, 0);
      assert.equal(client.breakerState(), 'closed');
    } finally {
      await env.close();
    }
  });

  it('a wrong secret key opens it too, without retrying the 401 in a loop', async () => {
    const env = await startClientAndEmulator();
    try {
      const client = env.clientWith({
        auth: { type: 'aksk', credentials: { ak: 'EMULATORDEVAK0000001', sk: 'wrong' } },
        breaker: { failureThreshold: 3, coolDownMs: 60_000 },
      });
      const put = () =>
        client.putRecords({
          streamName: 'any',
          records: uniqueEntries(1),
          deadline: Date.now() + 2000,
        });
      for (let i = 0; i < 3; i++) await put();
      await assert.rejects(put(), DisCircuitOpenError);
      assert.equal(env.emulator.state.stats.authFailures, 3, 'below the 5 that lock an AK');
    } finally {
      await env.close();
    }
  });
});

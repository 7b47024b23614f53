import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDisManagementClient } from '../../src/dis/management.ts';
import { DEV_CREDENTIALS } from '../../src/emulator/emulator.ts';
import { uniqueStreamName } from '../helpers/dis-fixtures.ts';
import { startGatewayOnRedis, type TestGatewayOnRedis } from '../helpers/gateway.ts';

// Batching without shared fate (README "Batching without shared fate"), through the real gateway
// with a real Redis and the emulator's faults: callers who share a PutRecords keep their own
// deadlines, one caller's record that DIS refuses whole does not fail the others, and a per-key
// stream keeps each key's order under throttling and retries.

interface Answer {
  readonly status: number;
  readonly records: readonly {
    readonly status: string;
    readonly error_code?: string;
    readonly retryable?: boolean;
    readonly sequence_number?: string;
  }[];
}

describe('batching without shared fate', () => {
  let gw: TestGatewayOnRedis;
  const ordered = uniqueStreamName('ordered');
  // Configured with 8 partitions, 2 in DIS: the stream was scaled down under the gateway.
  const shrunk = uniqueStreamName('shrunk');
  before(async () => {
    // A linger long enough that callers who arrive together share one PutRecords.
    const config = JSON.stringify({
      ingest: { batching: { linger_ms: 40 } },
      limits: { default: { requests_per_s: 10_000, burst: 10_000, records_per_s: 1_000_000 } },
      streams: {
        ordered: { dis_stream: ordered, partitions: 1, ordering: 'per_key' },
        shrunk: { dis_stream: shrunk, partitions: 8 },
      },
    });
    gw = await startGatewayOnRedis({
      env: { GATEWAY_CONFIG: '/virtual/gateway.json' },
      readFile: () => config,
      streams: [{ name: 'clicks', partitions: 2 }],
      emulator: { throttling: false },
    });
    const credentials = DEV_CREDENTIALS[0];
    assert.ok(credentials !== undefined);
    const management = createDisManagementClient({
      endpoint: gw.emulator.url,
      projectId: gw.emulator.projectId,
      auth: { type: 'aksk', credentials },
    });
    await management.createStream({ stream_name: ordered, partition_count: 1 });
    await management.createStream({ stream_name: shrunk, partition_count: 2 });
  });
  after(() => gw.close());

  const storedIn = (disStream: string): string[] =>
    gw.emulator.state
      .records(disStream)
      .flatMap((p) => p.records)
      .map((r) => r.data.toString());

  const post = async (
    stream: string,
    records: readonly Record<string, unknown>[],
    waitS: number,
  ): Promise<Answer> => {
    const res = await gw.http
      .post(`/v1/streams/${stream}/records`)
      .set('Authorization', `Bearer ${gw.token({ scopes: ['dis:write:*'] })}`)
      .set('Content-Type', 'application/json')
      .set('Prefer', `wait=${waitS}`)
      .send(JSON.stringify({ records }));
    if (!Array.isArray((res.body as Partial<Answer>).records))
      assert.fail(`no records in the answer: ${res.status} ${res.text}`);
    return { status: res.status, records: (res.body as Answer).records };
  };

  it('under DIS throttling, a wait=1 caller batched with a wait=10 caller is answered at its deadline and the other still gets its records written', async () => {
    gw.emulator.faults.failRecords({ share: 1, errorCode: 'DIS.4303' });
    const clear = setTimeout(() => {
      gw.emulator.faults.clear();
    }, 1_600);
    try {
      const started = Date.now();
      const [short, long] = await Promise.all([
        post('clicks', [{ data: { caller: 'short' } }], 1).then((a) => ({
          a,
          ms: Date.now() - started,
        })),
        post(
          'clicks',
          [{ data: { caller: 'long', n: 1 } }, { data: { caller: 'long', n: 2 } }],
          10,
        ).then((a) => ({ a, ms: Date.now() - started })),
      ]);
      assert.ok(short.ms < 1_500, `the short caller was answered at its wait (${short.ms} ms)`);
      assert.equal(short.a.records[0]?.error_code, 'DIS.4303');
      assert.equal(short.a.records[0].retryable, true);
      assert.equal(long.a.status, 200, 'the long caller’s records were written after all');
      assert.ok(long.ms >= 1_600);
      const stored = gw.stored('clicks').map((b) => b.toString());
      assert.ok(stored.includes('{"caller":"long","n":1}'));
      assert.ok(
        !stored.includes('{"caller":"short"}'),
        'the short caller’s record was not written',
      );
    } finally {
      clearTimeout(clear);
      gw.emulator.faults.clear();
    }
  });

  it('a record DIS refuses whole (a partition the stream lost) fails alone: every other caller of its batch is written', async () => {
    const isolated = async (): Promise<number> =>
      (await gw.metrics.disIsolatedRefusals.get()).values.find((v) => v.labels.code === 'DIS.4201')
        ?.value ?? 0;
    const before = await isolated();
    const answers = await Promise.all([
      post('shrunk', [{ data: { who: 'a', n: 1 } }, { data: { who: 'a', n: 2 } }], 5),
      post(
        'shrunk',
        [
          { data: { who: 'bad', n: 1 } },
          { data: { who: 'bad', n: 2 }, partition_id: 'shardId-0000000005' },
        ],
        5,
      ),
      post('shrunk', [{ data: { who: 'c', n: 1 } }], 5),
    ]);
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 207, 200],
    );
    assert.deepEqual(
      answers[1].records.map((r) => r.error_code ?? r.status),
      ['ok', 'DIS.4201'],
    );
    assert.equal(answers[1].records[1]?.retryable, false);
    const stored = storedIn(shrunk);
    for (const data of ['{"who":"a","n":2}', '{"who":"bad","n":1}', '{"who":"c","n":1}'])
      assert.ok(stored.includes(data), data);
    assert.ok((await isolated()) > before, 'the isolation is counted');
  });

  it('a per-key stream keeps each key’s order across callers and retries under 50 % DIS.4303', async () => {
    gw.emulator.faults.failRecords({ share: 0.5, errorCode: 'DIS.4303' });
    gw.emulator.faults.setLatency(30);
    try {
      const keys = ['k0', 'k1', 'k2', 'k3'];
      const callers = 6;
      const perCaller = 8;
      const answers: Promise<Answer>[] = [];
      for (let c = 0; c < callers; c++) {
        // Record r of caller c has key k(r mod 4); callers start 15 ms apart, so each is accepted
        // after the one before while that one's records are still with DIS.
        const records = Array.from({ length: perCaller }, (_, r) => ({
          data: { c, r },
          partition_key: keys[r % keys.length],
        }));
        answers.push(post('ordered', records, 10));
        await sleep(15);
      }
      const results = await Promise.all(answers);
      const written = results.flatMap((a) => a.records).filter((r) => r.status === 'ok').length;
      const stored = gw.emulator.state
        .records(ordered)
        .flatMap((p) => p.records)
        .sort((a, b) => Number(a.sequenceNumber - b.sequenceNumber))
        .map((r) => JSON.parse(r.data.toString()) as { c: number; r: number });
      assert.equal(stored.length, written, 'what DIS holds is what was reported written');
      for (const [k, key] of keys.entries()) {
        const order = stored.filter((d) => d.r % keys.length === k).map((d) => d.c * 100 + d.r);
        assert.deepEqual(
          order,
          [...order].sort((a, b) => a - b),
          `${key} reached DIS in the order it was accepted`,
        );
      }
      assert.ok(written >= callers * perCaller * 0.9, `most records were written (${written})`);
    } finally {
      gw.emulator.faults.clear();
    }
  });

  it('when a record of a key finally fails, those accepted behind it come back ERR_ORDERING_ABORTED, retryable, and are not written', async () => {
    gw.emulator.faults.throttleAll(true);
    let first: Promise<Answer>;
    let second: Promise<Answer>;
    try {
      first = post(
        'ordered',
        [
          { data: { n: 1 }, partition_key: 'abort' },
          { data: { n: 2 }, partition_key: 'abort' },
        ],
        1,
      );
      await sleep(100);
      second = post(
        'ordered',
        [
          { data: { n: 3 }, partition_key: 'abort' },
          { data: { n: 30 }, partition_key: 'other' },
        ],
        10,
      );
      const a = await first;
      assert.deepEqual(
        a.records.map((r) => [r.error_code, r.retryable]),
        [
          ['DIS.4303', true],
          ['ERR_ORDERING_ABORTED', true],
        ],
      );
    } finally {
      gw.emulator.faults.throttleAll(false);
    }
    const b = await second;
    assert.equal(b.records[0]?.error_code, 'ERR_ORDERING_ABORTED');
    assert.equal(b.records[0].retryable, true);
    assert.equal(b.records[1]?.status, 'ok', 'another key goes on');
    const later = await post('ordered', [{ data: { n: 4 }, partition_key: 'abort' }], 5);
    assert.equal(later.records[0]?.status, 'ok', 'a record accepted after the failure is written');
    const stored = gw.emulator.state
      .records(ordered)
      .flatMap((p) => p.records)
      .map((r) => r.data.toString());
    for (const n of [1, 2, 3]) assert.ok(!stored.includes(`{"n":${n}}`), `n=${n} is not in DIS`);
    assert.ok(stored.includes('{"n":4}'));
  });
});

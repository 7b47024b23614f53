import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { it } from 'node:test';
import { parseJsonRecords } from '../../src/http/parse/records-body.ts';
import { toJsonPointer } from '../../src/json/pointer.ts';

function eventsBody(indent: number | undefined): Buffer {
  const records = Array.from({ length: 50 }, (_, n) => ({
    id: `evt-${n}`,
    data: {
      type: 'page_view',
      user_id: `user-${n}`,
      session: 'c0a80164-5f3e-4c2a-9d7b-1e2f3a4b5c6d',
      ts: 1717171717123 + n,
      amount: 12.5,
      big: 9007199254740992,
      tags: ['a', 'b', 'c'],
      page: {
        path: `/products/${n}`,
        referrer: 'https://example.com/search?q=shoes',
        title: 'Shoes ë',
      },
      flags: { beta: true, consent: null },
    },
  }));
  // A number JSON.stringify could not have written, to keep the digit-for-digit path honest.
  const text = JSON.stringify({ records }, null, indent).replaceAll(
    '9007199254740992',
    '9007199254740993',
  );
  return Buffer.from(text);
}

// A sanity run, not a benchmark: the figures are printed, never asserted (timing belongs elsewhere).
it('parses a 50-record body of ~300-byte events 10,000 times and reports µs per body', (t) => {
  const options = {
    maxRecords: 500,
    maxRecordBytes: 1024 * 1024,
    maxDepth: 64,
    partitionKeyPointer: toJsonPointer('/user_id', 'partitionKeyPointer'),
  };
  for (const [layout, indent] of [
    ['compact', undefined],
    ['indented', 2],
  ] as const) {
    const body = eventsBody(indent);
    const parsed = parseJsonRecords(body, options);
    assert.equal(parsed.length, 50);
    const sample = parsed[7];
    assert.ok(sample);
    assert.equal(sample.pointerKey, 'user-7');
    assert.ok(sample.data.toString('utf8').includes('"big":9007199254740993,'));
    const average = parsed.reduce((sum, r) => sum + r.data.length, 0) / parsed.length;
    assert.ok(average > 250 && average < 400, `events average ${average} bytes`);

    const runs = 10_000;
    const start = performance.now();
    for (let n = 0; n < runs; n++) parseJsonRecords(body, options);
    const elapsed = performance.now() - start;
    t.diagnostic(
      `${layout} ${body.length}-byte body, 50 records of ~${Math.round(average)} bytes: ` +
        `${((elapsed * 1000) / runs).toFixed(1)} µs per body (${runs} runs)`,
    );
  }
});

import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
// Loaded for its side effect on V8, as in the gateway: ioredis defines a String subclass, after
// which `text.charCodeAt(i)` is no longer folded into a character load (see src/json/tokens.ts).
// Without it this bench measured the parser faster than the gateway ever runs it.
import 'ioredis';
import { parseJsonRecords } from '../../src/http/parse/records-body.ts';
import type { RecordsParseOptions } from '../../src/http/parse/types.ts';
import { toJsonPointer } from '../../src/json/pointer.ts';
import { spread } from './stats.ts';

// `node test/bench/parse.ts [--runs N] [--repetitions R]`: the records parser alone, in this process
// (no gateway, no load generator), on a 50-record JSON body of ~300-byte events laid out compact and
// indented. Prints parses/s (median, min-max over repetitions); nothing is asserted about speed.

const USAGE =
  'usage: node test/bench/parse.ts [--runs N (default 10000)] [--repetitions R (default 3)]';

const OPTIONS: RecordsParseOptions = {
  maxRecords: 500,
  maxRecordBytes: 1024 * 1024,
  maxDepth: 64,
  partitionKeyPointer: toJsonPointer('/user_id', 'partitionKeyPointer'),
};

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

/** Figures of a parser that gets the body wrong would mean nothing. */
function checkParse(body: Buffer): number {
  const parsed = parseJsonRecords(body, OPTIONS);
  assert.equal(parsed.length, 50);
  const sample = parsed[7];
  assert.ok(sample);
  assert.equal(sample.pointerKey, 'user-7');
  assert.ok(sample.data.toString('utf8').includes('"big":9007199254740993,'));
  const average = parsed.reduce((sum, r) => sum + r.data.length, 0) / parsed.length;
  assert.ok(average > 250 && average < 400, `events average ${average} bytes`);
  return average;
}

function parsesPerSecond(body: Buffer, runs: number): number {
  const start = performance.now();
  for (let n = 0; n < runs; n++) parseJsonRecords(body, OPTIONS);
  return (runs * 1000) / (performance.now() - start);
}

type Args = { readonly runs: number; readonly repetitions: number };

function parseArgs(argv: readonly string[]): Args | string {
  let runs = 10_000;
  let repetitions = 3;
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    const raw = argv[i + 1] ?? '';
    const value = /^\d+$/.test(raw) ? Number(raw) : 0;
    if (flag === '--runs' && value >= 1 && value <= 1_000_000) runs = value;
    else if (flag === '--repetitions' && value >= 1 && value <= 20) repetitions = value;
    else return `bad flag or value: ${JSON.stringify(flag)} ${JSON.stringify(raw)}`;
  }
  return { runs, repetitions };
}

function main({ runs, repetitions }: Args): void {
  const format = (n: number): string => Math.round(n).toLocaleString('en-US');
  const warmup = Math.max(1, Math.round(runs / 10));
  console.log(
    `parse: Node ${process.version}, ${repetitions} x ${format(runs)} parses per layout after ${format(warmup)} to warm up`,
  );
  for (const [layout, indent] of [
    ['compact', undefined],
    ['indented', 2],
  ] as const) {
    const body = eventsBody(indent);
    const average = checkParse(body);
    parsesPerSecond(body, warmup);
    const rates = spread(Array.from({ length: repetitions }, () => parsesPerSecond(body, runs)));
    console.log(
      `${layout.padEnd(8)} ${body.length}-byte body, 50 records of ~${Math.round(average)} bytes: ` +
        `${format(rates.median)} parses/s (${format(rates.min)}-${format(rates.max)}), ` +
        `${(1e6 / rates.median).toFixed(1)} µs per body, ${format(rates.median * 50)} records/s`,
    );
  }
}

const args = parseArgs(process.argv.slice(2));
if (typeof args === 'string') {
  console.error(`parse: ${args}\n${USAGE}`);
  process.exitCode = 2;
} else {
  main(args);
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseJsonRecords } from '../../src/http/parse/records-body.ts';
import type { RecordsParseOptions } from '../../src/http/parse/types.ts';
import { compactJsonBytes } from '../../src/json/compact.ts';
import { scanJson } from '../../src/json/scanner.ts';
import { PARSE_OPTIONS, rejection } from '../helpers/records-parse.ts';

const OPTIONS = PARSE_OPTIONS;

function parseBytes(bytes: Buffer, options: Partial<RecordsParseOptions> = {}) {
  return parseJsonRecords(bytes, { ...OPTIONS, ...options });
}

function parseText(text: string, options: Partial<RecordsParseOptions> = {}) {
  return parseBytes(Buffer.from(text, 'utf8'), options);
}

function scans(text: string): boolean {
  return scanJson(text, 0, text.length, { maxDepth: 1000, materializeDepth: 1000 }).ok;
}

describe('malformed JSON answers 400 with a position', () => {
  const malformed: [string, string][] = [
    ['a trailing comma in an array', '{"records":[{"data":[1,2,]}]}'],
    ['a trailing comma in an object', '{"records":[{"data":{"a":1,}}]}'],
    ['a trailing comma after the records', '{"records":[{"data":1}],}'],
    ['single quotes', "{'records':[{'data':1}]}"],
    ['a single-quoted value', '{"records":[{"data":\'x\'}]}'],
    ['NaN', '{"records":[{"data":NaN}]}'],
    ['Infinity', '{"records":[{"data":-Infinity}]}'],
    ['a leading zero', '{"records":[{"data":01}]}'],
    ['a negative leading zero', '{"records":[{"data":-01.5}]}'],
    ['a bare minus', '{"records":[{"data":-}]}'],
    ['a trailing dot', '{"records":[{"data":1.}]}'],
    ['a leading dot', '{"records":[{"data":.5}]}'],
    ['an exponent without digits', '{"records":[{"data":1e+}]}'],
    ['a plus sign', '{"records":[{"data":+1}]}'],
    ['a raw tab in a string', '{"records":[{"data":"a\tb"}]}'],
    ['a raw newline in a string', '{"records":[{"data":"a\nb"}]}'],
    ['a raw NUL in a string', '{"records":[{"data":"a\u0000b"}]}'],
    ['an invalid escape', '{"records":[{"data":"\\x41"}]}'],
    ['a short unicode escape', '{"records":[{"data":"\\u12G4"}]}'],
    ['a truncated body', '{"records":[{"data":1}'],
    ['a truncated string', '{"records":[{"data":"abc'],
    ['a truncated literal', '{"records":[{"data":tru'],
    ['a misspelt literal', '{"records":[{"data":nul}]}'],
    ['a line comment', '{"records":[{"data":1}]} // done'],
    ['a block comment', '{"records":[/* x */{"data":1}]}'],
    ['an unquoted member name', '{records:[{"data":1}]}'],
    ['a missing colon', '{"records" [{"data":1}]}'],
    ['a missing comma', '{"records":[{"data":1} {"data":2}]}'],
    ['two top-level values', '{"records":[{"data":1}]}{}'],
    ['an empty body', ''],
    ['a whitespace-only body', ' \n\t '],
    ['a byte order mark in the middle', '{"records":[{"data":\uFEFF1}]}'],
  ];
  for (const [scenario, text] of malformed) {
    it(`rejects ${scenario}`, () => {
      const error = rejection(() => parseText(text));
      assert.equal(error.code, 'ERR_HTTP_INVALID_JSON');
      assert.equal(error.status, 400);
      assert.match(error.detail ?? '', /at line \d+, column \d+$/);
    });
  }

  it('names the line and column of the problem and the pointer of the value being read', () => {
    const error = rejection(() => parseText('{\n  "records": [\n    {"data": [1, 2,]}\n  ]\n}'));
    assert.equal(error.detail, 'trailing comma at line 3, column 20');
    assert.deepEqual(error.extensions['errors'], [
      { pointer: '/records/0/data/2', detail: 'trailing comma at line 3, column 20' },
    ]);
  });

  it('says what is wrong with a leading zero', () => {
    assert.match(
      rejection(() => parseText('{"records":[{"data":012}]}')).detail ?? '',
      /^leading zeros/,
    );
  });

  it('never echoes more than a character of the body', () => {
    const secret = 'S'.repeat(5000);
    const error = rejection(() => parseText(`{"records":[{"data":"${secret}"} x]}`));
    const answer = JSON.stringify({ detail: error.detail, ...error.extensions });
    assert.ok(answer.length < 300, answer);
    assert.ok(!answer.includes('SS'));
  });
});

describe('the scanner accepts exactly what JSON.parse accepts', () => {
  const corpus = [
    '0',
    '-0',
    '1',
    '-1.5e-7',
    '1E+2',
    '1e400',
    '[]',
    '{}',
    '""',
    '"\\u0000"',
    '"\\ud800"',
    '"\u2028"',
    '"\u007f"',
    '[1,[2,[3]]]',
    '{"a":{"b":[true,false,null]}}',
    ' \t\r\n[ 1 ]\r\n',
    '"\\/\\b\\f\\n\\r\\t\\"\\\\"',
    '01',
    '1.',
    '.1',
    '-',
    '+1',
    '1e',
    '1e+',
    '[1,]',
    '{"a":1,}',
    '{,}',
    '[,1]',
    '{"a"}',
    '{"a":}',
    '{1:2}',
    "'a'",
    '"\\a"',
    '"\\u123"',
    '"a\nb"',
    'tru',
    'nulll',
    'True',
    '[1 2]',
    '{"a":1 "b":2}',
    '',
    ' ',
    '[',
    ']',
    '{',
    '}',
    '"',
    '[1]]',
    '{"a":1}}',
    'NaN',
    '0x10',
    '1_000',
    '\uFEFF1',
    '"\t"',
  ];
  for (const text of corpus) {
    it(`agrees on ${JSON.stringify(text)}`, () => {
      let expected = true;
      try {
        JSON.parse(text);
      } catch {
        expected = false;
      }
      assert.equal(scans(text), expected);
    });
  }
});

describe('compaction', () => {
  /** A seeded generator so a failure can be replayed. */
  function createRandom(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state / 2 ** 32;
    };
  }

  function randomJson(random: () => number, depth: number): string {
    const ws = (): string => [' ', '', '\n', '\t', '\r\n  ', ''][Math.floor(random() * 6)] ?? '';
    const pick = Math.floor(random() * (depth > 3 ? 4 : 6));
    if (pick === 0) return String(Math.floor(random() * 1e6) - 5e5);
    if (pick === 1) return JSON.stringify(`s ${Math.floor(random() * 100)}  t`);
    if (pick === 2) return ['true', 'false', 'null'][Math.floor(random() * 3)] ?? 'null';
    if (pick === 3) return JSON.stringify('a "quoted" \\ back\\slash');
    const n = Math.floor(random() * 4);
    const parts = Array.from({ length: n }, (_, k) =>
      pick === 4
        ? `${ws()}${randomJson(random, depth + 1)}${ws()}`
        : `${ws()}"k${k} x"${ws()}:${ws()}${randomJson(random, depth + 1)}${ws()}`,
    );
    return pick === 4 ? `[${parts.join(',')}]` : `{${parts.join(',')}}`;
  }

  it('equals JSON.stringify(JSON.parse(text)) for 500 random documents whose values survive that', () => {
    const random = createRandom(20240601);
    for (let n = 0; n < 500; n++) {
      const text = randomJson(random, 0);
      assert.equal(
        compactJsonBytes(Buffer.from(text)).toString('utf8'),
        JSON.stringify(JSON.parse(text)),
        text,
      );
    }
  });
});

describe('nesting depth', () => {
  it('counts the envelope: data may nest maxDepth - 3 levels', () => {
    assert.equal(parseText('{"records":[{"data":[[1]]}]}', { maxDepth: 5 }).length, 1);
    const error = rejection(() => parseText('{"records":[{"data":[[[1]]]}]}', { maxDepth: 5 }));
    assert.equal(error.code, 'ERR_VALIDATION');
    assert.deepEqual(error.extensions['errors'], [
      { pointer: '/records/0/data/0/0', detail: 'nesting deeper than 5 levels' },
    ]);
  });

  it('rejects 100,000 nested arrays without exhausting the stack', () => {
    const text = `{"records":[{"data":${'['.repeat(100_000)}${']'.repeat(100_000)}}]}`;
    assert.equal(rejection(() => parseText(text)).code, 'ERR_VALIDATION');
  });

  it('parses 200,000 nested arrays when the limit allows it, iteratively', () => {
    const data = `${'[ '.repeat(200_000)}${']'.repeat(200_000)}`;
    const [record] = parseText(`{"records":[{"data":${data}}]}`, { maxDepth: 300_000 });
    assert.equal(record?.data.toString('utf8'), `${'['.repeat(200_000)}${']'.repeat(200_000)}`);
  });
});

describe('the body must be valid UTF-8', () => {
  const wrap = (bytes: number[]): Buffer =>
    Buffer.concat([Buffer.from('{"records":[{"data":"'), Buffer.from(bytes), Buffer.from('"}]}')]);
  const invalid: [string, number[]][] = [
    ['a lead byte followed by ASCII (C3 28)', [0xc3, 0x28]],
    ['an overlong NUL (C0 80)', [0xc0, 0x80]],
    ['an overlong slash (E0 80 AF)', [0xe0, 0x80, 0xaf]],
    ['an encoded surrogate (ED A0 80)', [0xed, 0xa0, 0x80]],
    ['a code point above U+10FFFF (F4 90 80 80)', [0xf4, 0x90, 0x80, 0x80]],
    ['a truncated sequence (F0 9F 98)', [0xf0, 0x9f, 0x98]],
    ['a lone continuation byte (80)', [0x80]],
    ['a byte never used (FF)', [0xff]],
  ];
  for (const [scenario, bytes] of invalid) {
    it(`rejects ${scenario} and names its offset`, () => {
      const error = rejection(() => parseBytes(wrap(bytes)));
      assert.equal(error.code, 'ERR_HTTP_INVALID_UTF8');
      assert.equal(error.status, 400);
      assert.equal(error.detail, 'invalid UTF-8 at byte offset 21');
    });
  }

  it('rejects invalid UTF-8 as the whole body', () => {
    assert.equal(
      rejection(() => parseBytes(Buffer.from([0xc3, 0x28]))).code,
      'ERR_HTTP_INVALID_UTF8',
    );
  });

  it('accepts 4-byte characters and skips a leading byte order mark', () => {
    const text = '{"records":[{"data":"😀"}]}';
    const [record] = parseBytes(
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]),
    );
    assert.deepEqual(record?.data, Buffer.from('"😀"'));
  });
});

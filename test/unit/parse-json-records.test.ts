import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AppError } from '../../src/errors/app-error.ts';
import { parseJsonRecords } from '../../src/http/parse/records-body.ts';
import type { RecordsParseOptions } from '../../src/http/parse/types.ts';
import { PARSE_OPTIONS, rejection } from '../helpers/records-parse.ts';

const OPTIONS = PARSE_OPTIONS;

function parse(body: string, options: Partial<RecordsParseOptions> = {}) {
  return parseJsonRecords(Buffer.from(body, 'utf8'), { ...OPTIONS, ...options });
}

function pointersOf(error: AppError): unknown {
  const errors = error.extensions['errors'];
  assert.ok(Array.isArray(errors), 'errors extension is a list');
  return errors.map((entry: unknown) =>
    typeof entry === 'object' && entry !== null && 'pointer' in entry ? entry.pointer : entry,
  );
}

function body(...records: string[]): string {
  return `{"records":[${records.join(',')}]}`;
}

describe('data reaches DIS as the caller wrote it', () => {
  it('keeps big integers, huge exponents, long decimals, -0, escapes and key order digit for digit', () => {
    const values = [
      '9007199254740993',
      '1e400',
      '0.10000000000000000555',
      '-0',
      '"\\u00e9"',
      '{"z":1,"a":2,"m":[3,2,1]}',
      '{"n":9007199254740993,"f":1E+2,"s":"\\"q\\"\\/"}',
      'true',
      'null',
      '"plain"',
    ];
    const records = parse(body(...values.map((v) => `{"data":${v}}`)));
    assert.deepEqual(
      records.map((r) => r.data),
      values.map((v) => Buffer.from(v, 'utf8')),
    );
  });

  it('removes whitespace outside strings at every depth and keeps it inside strings', () => {
    const data =
      '{ "a" : [ 1 ,\n\t{ "b" : "x  y" } ] ,\r\n "c" : "say \\"  hi \\\\" , "d" : [ "\\\\" , 2 ] }';
    const [record] = parse(`{ "records" : [ { "data" : ${data} } ] }`);
    assert.equal(
      record?.data.toString('utf8'),
      '{"a":[1,{"b":"x  y"}],"c":"say \\"  hi \\\\","d":["\\\\",2]}',
    );
  });

  it('writes non-ASCII text as the same UTF-8 bytes the caller sent', () => {
    const data = '{"name":"Zoë 日本 😀","raw":"\u2028"}';
    const [record] = parse(body(`{"data": ${data}}`));
    assert.deepEqual(record?.data, Buffer.from(data, 'utf8'));
  });

  it('passes duplicate member names inside data through untouched', () => {
    const [record] = parse(body('{"data":{"a":1,"a":2}}'));
    assert.equal(record?.data.toString('utf8'), '{"a":1,"a":2}');
  });

  it('returns the routing fields and the correlation id as sent', () => {
    const records = parse(
      body(
        '{"data":1,"id":"evt-1","partition_key":"user-\\u00e9"}',
        '{"data":2,"partition_id":"shardId-0000000003"}',
        '{"data":3,"partition_id":"3","explicit_hash_key":"9223372036854775807"}',
        '{"data_base64":"AAEC/w==","explicit_hash_key":"0"}',
      ),
      { partitions: 4 },
    );
    assert.deepEqual(records, [
      { data: Buffer.from('1'), id: 'evt-1', partitionKey: 'user-é' },
      { data: Buffer.from('2'), partitionId: 'shardId-0000000003' },
      { data: Buffer.from('3'), partitionId: '3', explicitHashKey: '9223372036854775807' },
      { data: Buffer.from([0, 1, 2, 255]), explicitHashKey: '0' },
    ]);
  });
});

describe('the envelope and each record are checked with a pointer per problem', () => {
  const cases: [string, string, string[]][] = [
    ['a top-level array', '[{"data":1}]', ['']],
    ['a top-level string', '"records"', ['']],
    ['no records member', '{}', ['/records']],
    ['records not an array', '{"records":{"data":1}}', ['/records']],
    ['an empty records array', '{"records":[]}', ['/records']],
    ['an unknown top-level member', '{"records":[{"data":1}],"stream":"x"}', ['/stream']],
    ['records twice', '{"records":[{"data":1}],"records":[{"data":2}]}', ['/records']],
    ['a record that is not an object', body('{"data":1}', '"x"'), ['/records/1']],
    ['a record with neither data member', body('{"id":"a"}'), ['/records/0']],
    ['a record with both data members', body('{"data":1,"data_base64":"AA=="}'), ['/records/0']],
    [
      'a typo in a routing member',
      body('{"data":1,"partition_keys":"k"}'),
      ['/records/0/partition_keys'],
    ],
    ['an unknown member with / and ~', body('{"data":1,"a/b~c":1}'), ['/records/0/a~1b~0c']],
    ['a duplicate id', body('{"data":1,"id":"a","id":"b"}'), ['/records/0/id']],
    ['a duplicate data', body('{"data":1,"data":2}'), ['/records/0/data']],
    ['an empty id', body('{"data":1,"id":""}'), ['/records/0/id']],
    ['a numeric id', body('{"data":1,"id":7}'), ['/records/0/id']],
    ['an id of 257 characters', body(`{"data":1,"id":"${'x'.repeat(257)}"}`), ['/records/0/id']],
    ['an id with a lone surrogate', body('{"data":1,"id":"\\ud800"}'), ['/records/0/id']],
    ['an empty partition key', body('{"data":1,"partition_key":""}'), ['/records/0/partition_key']],
    [
      'a partition key of 257 characters',
      body(`{"data":1,"partition_key":"${'é'.repeat(257)}"}`),
      ['/records/0/partition_key'],
    ],
    ['a null partition key', body('{"data":1,"partition_key":null}'), ['/records/0/partition_key']],
    ['data_base64 not a string', body('{"data_base64":5}'), ['/records/0/data_base64']],
  ];
  for (const [scenario, input, pointers] of cases) {
    it(`rejects ${scenario} with 400 at ${pointers.join(', ')}`, () => {
      const error = rejection(() => parse(input));
      assert.equal(error.code, 'ERR_VALIDATION');
      assert.equal(error.status, 400);
      assert.deepEqual(pointersOf(error), pointers);
    });
  }

  it('accepts ids and partition keys of exactly 256 characters, counting code points', () => {
    const [record] = parse(
      body(`{"data":1,"id":"${'x'.repeat(256)}","partition_key":"${'😀'.repeat(256)}"}`),
    );
    assert.ok(record);
    assert.equal(record.id, 'x'.repeat(256));
    assert.equal(record.partitionKey, '😀'.repeat(256));
  });

  it('reports every problem of a body in order, in one answer', () => {
    const error = rejection(() =>
      parse(
        body(
          '{"data":1}',
          '{"data":1,"partition_id":"x","explicit_hash_key":"-1"}',
          '{"data_base64":"not base64"}',
          '{"nope":1}',
        ),
      ),
    );
    assert.equal(error.code, 'ERR_VALIDATION');
    assert.deepEqual(pointersOf(error), [
      '/records/1/partition_id',
      '/records/1/explicit_hash_key',
      '/records/2/data_base64',
      '/records/3/nope',
      '/records/3',
    ]);
    assert.equal(error.detail, '5 problems in the request');
  });

  it('lists at most 100 problems but counts them all', () => {
    const error = rejection(() => parse(body(...Array.from({ length: 150 }, () => '{"id":1}'))));
    const errors = error.extensions['errors'];
    assert.ok(Array.isArray(errors));
    // Each record has two problems: id not a string, no data.
    assert.equal(errors.length, 100);
    assert.match(error.detail ?? '', /^300 problems .*first 100/);
  });

  it('does not echo a huge unknown member name back', () => {
    const name = 'k'.repeat(10_000);
    const error = rejection(() => parse(body(`{"data":1,"${name}":1}`)));
    assert.deepEqual(pointersOf(error), ['/records/0']);
    assert.ok(JSON.stringify(error.extensions).length < 500);
  });
});

describe('partition ids and explicit hash keys', () => {
  const accepted = ['0', '3', 'shardId-0000000000', 'shardId-0000000003'];
  for (const id of accepted) {
    it(`accepts partition_id "${id}" on a 4-partition stream`, () => {
      assert.equal(
        parse(body(`{"data":1,"partition_id":"${id}"}`), { partitions: 4 })[0]?.partitionId,
        id,
      );
    });
  }
  const rejected = [
    '4',
    'shardId-0000000004',
    '03',
    '-1',
    '3.0',
    'shardId-3',
    'shardid-0000000001',
    '',
    ' 3',
  ];
  for (const id of rejected) {
    it(`rejects partition_id "${id}" on a 4-partition stream`, () => {
      const error = rejection(() =>
        parse(body(`{"data":1,"partition_id":"${id}"}`), { partitions: 4 }),
      );
      assert.deepEqual(pointersOf(error), ['/records/0/partition_id']);
    });
  }

  it('accepts any well-formed partition_id when the partition count is unknown', () => {
    assert.equal(
      parse(body('{"data":1,"partition_id":"shardId-0000000099"}'))[0]?.partitionId,
      'shardId-0000000099',
    );
  });

  it('rejects a numeric partition_id', () => {
    assert.deepEqual(pointersOf(rejection(() => parse(body('{"data":1,"partition_id":3}')))), [
      '/records/0/partition_id',
    ]);
  });

  for (const key of ['0', '1', '9223372036854775807']) {
    it(`accepts explicit_hash_key ${key}`, () => {
      assert.equal(parse(body(`{"data":1,"explicit_hash_key":"${key}"}`))[0]?.explicitHashKey, key);
    });
  }
  for (const key of [
    '9223372036854775808',
    '99999999999999999999',
    '-1',
    '+1',
    '01',
    '',
    '1.0',
    '1e3',
    ' 1',
  ]) {
    it(`rejects explicit_hash_key "${key}"`, () => {
      const error = rejection(() => parse(body(`{"data":1,"explicit_hash_key":"${key}"}`)));
      assert.deepEqual(pointersOf(error), ['/records/0/explicit_hash_key']);
    });
  }
});

describe('data_base64 is strict standard Base64', () => {
  it('decodes valid Base64, including text written with JSON escapes', () => {
    const records = parse(
      body(
        '{"data_base64":"AAEC/w=="}',
        '{"data_base64":"\\u0041\\u0041\\u003d\\u003d"}',
        '{"data_base64":"+/+/"}',
      ),
    );
    assert.deepEqual(
      records.map((r) => [...r.data]),
      [[0, 1, 2, 255], [0], [0xfb, 0xff, 0xbf]],
    );
  });

  const invalid: [string, string][] = [
    ['base64url characters', 'AAEC_w=='],
    ['a base64url dash', 'AAEC-w=='],
    ['a space', 'AAEC /w=='],
    ['a newline escape', 'AAEC\\n/w=='],
    ['missing padding', 'AAEC/w'],
    ['short padding', 'AAEC/w='],
    ['padding in the middle', 'AA==AAAA'],
    ['only padding', '===='],
    ['three padding characters', 'A==='],
    ['non-zero unused bits', 'QR=='],
    ['the empty string', ''],
    ['a non-alphabet character', 'AA*A'],
  ];
  for (const [scenario, value] of invalid) {
    it(`rejects ${scenario}`, () => {
      const error = rejection(() => parse(body(`{"data_base64":"${value}"}`)));
      assert.equal(error.code, 'ERR_VALIDATION');
      assert.deepEqual(pointersOf(error), ['/records/0/data_base64']);
    });
  }
});

describe('size and count limits answer 413', () => {
  it('rejects more records than allowed with a pointer to the array', () => {
    const error = rejection(() =>
      parse(body('{"data":1}', '{"data":2}', '{"data":3}', '{"data":4}'), { maxRecords: 3 }),
    );
    assert.equal(error.code, 'ERR_VALIDATION_TOO_LARGE');
    assert.equal(error.status, 413);
    assert.deepEqual(pointersOf(error), ['/records']);
  });

  it('accepts exactly the maximum number of records', () => {
    assert.equal(
      parse(body('{"data":1}', '{"data":2}', '{"data":3}'), { maxRecords: 3 }).length,
      3,
    );
  });

  it('measures data as compacted bytes and rejects one over the limit', () => {
    // "12345678" is 10 bytes with its quotes; [1, 2, 3] compacts to 7.
    assert.equal(
      parse(body('{"data":"12345678"}', '{"data":[1, 2, 3]}'), { maxRecordBytes: 10 }).length,
      2,
    );
    const error = rejection(() =>
      parse(body('{"data":1}', '{"data":"123456789"}'), { maxRecordBytes: 10 }),
    );
    assert.equal(error.status, 413);
    assert.deepEqual(pointersOf(error), ['/records/1/data']);
  });

  it('counts multi-byte characters as their UTF-8 bytes', () => {
    const error = rejection(() => parse(body('{"data":"ééééé"}'), { maxRecordBytes: 11 }));
    assert.deepEqual(pointersOf(error), ['/records/0/data']);
  });

  it('measures data_base64 by its decoded length', () => {
    const ten = Buffer.alloc(10, 7).toString('base64');
    const eleven = Buffer.alloc(11, 7).toString('base64');
    assert.equal(
      parse(body(`{"data_base64":"${ten}"}`), { maxRecordBytes: 10 })[0]?.data.length,
      10,
    );
    const error = rejection(() =>
      parse(body(`{"data_base64":"${eleven}"}`), { maxRecordBytes: 10 }),
    );
    assert.equal(error.code, 'ERR_VALIDATION_TOO_LARGE');
    assert.deepEqual(pointersOf(error), ['/records/0/data_base64']);
  });

  it('answers 413 when a record is too large even if others are merely invalid, listing both', () => {
    const error = rejection(() =>
      parse(body('{"data":"123456789"}', '{"id":""}'), { maxRecordBytes: 10 }),
    );
    assert.equal(error.status, 413);
    assert.deepEqual(pointersOf(error), ['/records/0/data', '/records/1', '/records/1/id']);
  });
});

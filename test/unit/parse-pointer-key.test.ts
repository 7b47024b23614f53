import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseJsonRecords } from '../../src/http/parse/records-body.ts';
import { parseNdjsonRecords } from '../../src/http/parse/records-body.ts';
import type { RecordsParseOptions } from '../../src/http/parse/types.ts';
import { parseJsonPointer, toJsonPointer } from '../../src/json/pointer.ts';

const OPTIONS: RecordsParseOptions = { maxRecords: 500, maxRecordBytes: 1024 * 1024, maxDepth: 64 };

function pointerKeyOf(data: string, partitionKeyPointer: string): string | undefined {
  const body = Buffer.from(`{"records":[{"data":${data}}]}`);
  const [record] = parseJsonRecords(body, {
    ...OPTIONS,
    partitionKeyPointer: toJsonPointer(partitionKeyPointer, 'partitionKeyPointer'),
  });
  assert.ok(record !== undefined);
  return record.pointerKey;
}

describe('partition key from the stream pointer into data', () => {
  const found: [string, string, string, string][] = [
    ['a string, decoded', '{"user_id":"u-\\u00e9\\"1"}', '/user_id', 'u-é"1'],
    ['a number, as its JSON text', '{"n":1.50}', '/n', '1.50'],
    ['a big number, digit for digit', '{"n":9007199254740993}', '/n', '9007199254740993'],
    ['a boolean', '{"flag":true}', '/flag', 'true'],
    ['a nested member', '{"a":{"b":{"c":"deep"}}}', '/a/b/c', 'deep'],
    ['a member with / and ~ in its name', '{"a/b":{"c~d":"x"}}', '/a~1b/c~0d', 'x'],
    ['an array element', '{"items":["zero","one"]}', '/items/1', 'one'],
    ['the whole data when the pointer is empty', '"whole"', '', 'whole'],
    [
      'the last of duplicate members, as JSON.parse would',
      '{"k":"first","k":"last"}',
      '/k',
      'last',
    ],
    ['a member found through whitespace', '{ "a" : { "b" : 7 } }', '/a/b', '7'],
  ];
  for (const [scenario, data, pointer, expected] of found) {
    it(`takes ${scenario}`, () => {
      assert.equal(pointerKeyOf(data, pointer), expected);
    });
  }

  const absent: [string, string, string][] = [
    ['the member is missing', '{"other":"x"}', '/user_id'],
    ['the value is null', '{"user_id":null}', '/user_id'],
    ['the value is an object', '{"user_id":{"id":1}}', '/user_id'],
    ['the value is an array', '{"user_id":[1]}', '/user_id'],
    ['the value is an empty string', '{"user_id":""}', '/user_id'],
    ['the value is too long to be a key', `{"user_id":"${'x'.repeat(257)}"}`, '/user_id'],
    ['the index is out of range', '{"items":[1]}', '/items/1'],
    ['the index has a leading zero', '{"items":[1,2]}', '/items/01'],
    ['the path runs through a scalar', '{"a":"b"}', '/a/b'],
    ['data is not an object', '[1,2]', '/user_id'],
  ];
  for (const [scenario, data, pointer] of absent) {
    it(`leaves it absent when ${scenario}`, () => {
      assert.equal(pointerKeyOf(data, pointer), undefined);
    });
  }

  it('is not computed when the record names its own partition', () => {
    const body = Buffer.from(
      '{"records":[{"data":{"u":"a"},"partition_key":"k"},{"data":{"u":"b"},"partition_id":"0"},' +
        '{"data":{"u":"c"},"explicit_hash_key":"5"},{"data":{"u":"d"}},{"data_base64":"AA=="}]}',
    );
    const records = parseJsonRecords(body, {
      ...OPTIONS,
      partitionKeyPointer: toJsonPointer('/u', 'partitionKeyPointer'),
    });
    assert.deepEqual(
      records.map((r) => r.pointerKey),
      [undefined, undefined, undefined, 'd', undefined],
    );
    assert.ok(!('pointerKey' in (records[0] ?? {})));
  });

  it('works for NDJSON lines', () => {
    const body = Buffer.from('{"u":{"id":42}}\n{"u":{"id":"x"}}\n{"u":{}}\n');
    const records = parseNdjsonRecords(body, {
      ...OPTIONS,
      partitionKeyPointer: toJsonPointer('/u/id', 'partitionKeyPointer'),
    });
    assert.deepEqual(
      records.map((r) => r.pointerKey),
      ['42', 'x', undefined],
    );
  });

  it('refuses a pointer that is not RFC 6901, which config validation must catch', () => {
    assert.equal(parseJsonPointer('user_id'), undefined);
    assert.equal(parseJsonPointer('/a~2'), undefined);
    assert.deepEqual(parseJsonPointer('/a~1b/~0'), ['a/b', '~']);
    assert.throws(
      () =>
        parseJsonRecords(Buffer.from('{"records":[{"data":1}]}'), {
          ...OPTIONS,
          partitionKeyPointer: toJsonPointer('x', 'partitionKeyPointer'),
        }),
      TypeError,
    );
  });
});

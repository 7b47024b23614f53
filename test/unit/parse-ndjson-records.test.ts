import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNdjsonRecords } from '../../src/http/parse/records-body.ts';
import type { RecordsParseOptions } from '../../src/http/parse/types.ts';
import { PARSE_OPTIONS, rejection } from '../helpers/records-parse.ts';

const OPTIONS = PARSE_OPTIONS;

function parse(text: string, options: Partial<RecordsParseOptions> = {}) {
  return parseNdjsonRecords(Buffer.from(text, 'utf8'), { ...OPTIONS, ...options });
}

function texts(text: string, options: Partial<RecordsParseOptions> = {}): string[] {
  return parse(text, options).map((r) => r.data.toString('utf8'));
}

describe('NDJSON bodies: one record per line', () => {
  it('turns each line into one record, compacted, digits kept', () => {
    assert.deepEqual(texts('{"a": 1e400, "b" : [1, 2]}\n9007199254740993\n"x  y"\n'), [
      '{"a":1e400,"b":[1,2]}',
      '9007199254740993',
      '"x  y"',
    ]);
  });

  it('accepts a last line without a newline', () => {
    assert.deepEqual(texts('1\n2'), ['1', '2']);
  });

  it('tolerates CRLF line ends and surrounding whitespace', () => {
    assert.deepEqual(texts('  {"a":1}  \r\n\t[2]\r\n'), ['{"a":1}', '[2]']);
  });

  it('skips blank and whitespace-only lines anywhere', () => {
    assert.deepEqual(texts('\n1\n\n  \n\r\n2\n\n'), ['1', '2']);
  });

  it('keeps non-ASCII bytes and escaped newlines inside strings', () => {
    const line = '{"t":"Zoë\\n日本 😀"}';
    assert.deepEqual(parse(`${line}\n`)[0]?.data, Buffer.from(line, 'utf8'));
  });
});

describe('NDJSON errors', () => {
  it('reports every malformed line with the record index and the line number', () => {
    const error = rejection(() => parse('{"a":1}\n{"a":}\n\n[1,]\n"ok"\n'));
    assert.equal(error.code, 'ERR_HTTP_INVALID_JSON');
    assert.equal(error.status, 400);
    assert.deepEqual(error.extensions['errors'], [
      { pointer: '/1/a', detail: 'unexpected character "}" at line 2, column 6' },
      { pointer: '/2/1', detail: 'trailing comma at line 4, column 4' },
    ]);
  });

  it('rejects two values on one line', () => {
    assert.equal(rejection(() => parse('1 2\n')).code, 'ERR_HTTP_INVALID_JSON');
  });

  it('rejects a body with no records', () => {
    for (const text of ['', '\n', ' \r\n\n']) {
      const error = rejection(() => parse(text));
      assert.equal(error.code, 'ERR_VALIDATION');
      assert.deepEqual(error.extensions['errors'], [
        { pointer: '', detail: 'no records: the body must hold one JSON value per line' },
      ]);
    }
  });

  it('answers 413 for more lines than records allowed', () => {
    assert.equal(parse('1\n2\n3\n', { maxRecords: 3 }).length, 3);
    const error = rejection(() => parse('1\n2\n3\n4\n', { maxRecords: 3 }));
    assert.equal(error.code, 'ERR_VALIDATION_TOO_LARGE');
    assert.equal(error.status, 413);
    assert.deepEqual(error.extensions['errors'], [
      { pointer: '', detail: 'more than 3 records; at most 3 per request' },
    ]);
  });

  it('answers 413 for a record over the byte limit, pointing at it', () => {
    const error = rejection(() => parse('"ok"\n"much too long"\n', { maxRecordBytes: 10 }));
    assert.equal(error.status, 413);
    const errors = error.extensions['errors'];
    assert.ok(Array.isArray(errors) && errors.length === 1);
    assert.deepEqual(errors[0], {
      pointer: '/1',
      detail: 'data is 15 bytes as compact JSON; at most 10 per record',
    });
  });

  it('applies the depth limit to each line', () => {
    assert.equal(parse('[[1]]\n', { maxDepth: 2 }).length, 1);
    const error = rejection(() => parse('[[1]]\n[[[1]]]\n', { maxDepth: 2 }));
    assert.equal(error.code, 'ERR_VALIDATION');
    assert.deepEqual(error.extensions['errors'], [
      { pointer: '/1/0/0', detail: 'nesting deeper than 2 levels at line 2, column 3' },
    ]);
  });

  it('rejects invalid UTF-8', () => {
    const error = rejection(() =>
      parseNdjsonRecords(Buffer.from([0x31, 0x0a, 0xc0, 0x80]), OPTIONS),
    );
    assert.equal(error.code, 'ERR_HTTP_INVALID_UTF8');
    assert.equal(error.detail, 'invalid UTF-8 at byte offset 2');
  });
});

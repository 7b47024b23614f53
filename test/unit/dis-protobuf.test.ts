import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvariantError } from '../../src/errors/coded-error.ts';
import {
  decodePutRecordsRequest,
  decodePutRecordsResult,
  DEFAULT_MAX_RECORDS,
  encodePutRecordsRequest,
  encodePutRecordsResult,
  ProtobufDecodeError,
  type ProtobufDecodeReason,
} from '../../src/dis/protobuf.ts';

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const ascii = (s: string): number[] => [...Buffer.from(s, 'latin1')];

function assertDecodeFails(input: Uint8Array, reason: ProtobufDecodeReason, offset?: number) {
  assert.throws(
    () => decodePutRecordsRequest(input),
    (err: unknown) => {
      assert.ok(err instanceof ProtobufDecodeError);
      assert.equal(err.code, 'ERR_PROTOBUF_DECODE');
      assert.equal(err.reason, reason);
      if (offset !== undefined) assert.equal(err.offset, offset);
      return true;
    },
  );
}

// Hand-computed: tag = field × 8 + wire type, as a varint; wire type 0 varint, 2 length-delimited.
// prettier-ignore
const GOLDEN_REQUEST = bytes(
  0x0a, 0x02, ...ascii('st'), //         1 streamName (1 << 3 | 2 = 0x0a), length 2, "st"
  0x12, 0x0b, //                         2 records (0x12), entry of 11 bytes:
  0x1a, 0x02, ...ascii('hi'), //           3 data (0x1a), length 2, "hi"              (4 bytes)
  0x2a, 0x01, ...ascii('k'), //            5 partitionKey (0x2a), length 1, "k"      (3 bytes)
  0xe8, 0x01, 0xac, 0x02, //               29 timestamp: 29 << 3 | 0 = 232 = e8 01; 300 = ac 02
  0xf2, 0x01, 0x02, ...ascii('id'), //   30 streamId: 30 << 3 | 2 = 242 = f2 01, length 2, "id"
);

// prettier-ignore
const GOLDEN_RESULT = bytes(
  0xa8, 0x01, 0x01, //                   21 failedRecordCount: 21 << 3 | 0 = 168 = a8 01; 1
  0xb2, 0x01, 0x09, //                   22 records: 22 << 3 | 2 = 178 = b2 01; entry of 9 bytes:
  0xba, 0x01, 0x02, ...ascii('s0'), //     23 shardId: 186 = ba 01, "s0"             (5 bytes)
  0xc2, 0x01, 0x01, ...ascii('7'), //      24 sequenceNumber: 194 = c2 01, "7"       (4 bytes)
  0xb2, 0x01, 0x0f, //                   22 records, entry of 15 bytes:
  0xca, 0x01, 0x08, ...ascii('DIS.4303'), // 25 errorCode: 202 = ca 01, 8 bytes      (11 bytes)
  0xd2, 0x01, 0x01, ...ascii('x'), //      26 errorMessage: 210 = d2 01, "x"         (4 bytes)
);

describe('PutRecords protobuf: golden bytes', () => {
  it('a small request decodes to its fields, with the two-byte tags of fields 29 and 30', () => {
    const decoded = decodePutRecordsRequest(GOLDEN_REQUEST);
    assert.equal(decoded.streamName, 'st');
    assert.equal(decoded.streamId, 'id');
    assert.equal(decoded.records.length, 1);
    const [entry] = decoded.records;
    assert.ok(entry);
    assert.deepEqual(entry.data, Buffer.from('hi'));
    assert.equal(entry.partitionKey, 'k');
    assert.equal(entry.timestamp, 300);
    assert.equal(entry.partitionId, undefined);
    assert.equal(entry.explicitHashKey, undefined);
  });

  it('the same request encodes to exactly those bytes', () => {
    const encoded = encodePutRecordsRequest({
      streamName: 'st',
      records: [{ data: Buffer.from('hi'), partitionKey: 'k', timestamp: 300 }],
      streamId: 'id',
    });
    assert.deepEqual([...encoded], [...GOLDEN_REQUEST]);
  });

  it('a result with one written and one failed record encodes to exactly those bytes', () => {
    const encoded = encodePutRecordsResult({
      failedRecordCount: 1,
      records: [
        { shardId: 's0', sequenceNumber: '7' },
        { errorCode: 'DIS.4303', errorMessage: 'x' },
      ],
    });
    assert.deepEqual([...encoded], [...GOLDEN_RESULT]);
    assert.deepEqual(decodePutRecordsResult(encoded), {
      failedRecordCount: 1,
      records: [
        { shardId: 's0', sequenceNumber: '7' },
        { errorCode: 'DIS.4303', errorMessage: 'x' },
      ],
    });
  });

  it('an empty result is the required count alone', () => {
    assert.deepEqual(
      [...encodePutRecordsResult({ failedRecordCount: 0, records: [] })],
      [0xa8, 0x01, 0x00],
    );
  });
});

describe('PutRecords protobuf: round trips', () => {
  it('every field of every entry comes back, data as views into the input', () => {
    const request = {
      streamName: 'stream-é-😀',
      streamId: 'sid',
      records: [
        {
          data: Buffer.from([0, 1, 2, 255]),
          explicitHashKey: '9223372036854775807',
          partitionKey: 'ключ',
          partitionId: 'shardId-0000000003',
          timestamp: 1_733_200_000_000,
        },
        { data: Buffer.alloc(0) },
        { data: Buffer.from('x'), partitionKey: '' },
      ],
    };
    const encoded = encodePutRecordsRequest(request);
    const decoded = decodePutRecordsRequest(encoded);
    assert.deepEqual(decoded, request);
    for (const entry of decoded.records) assert.equal(entry.data.buffer, encoded.buffer);
  });

  it('a plain Uint8Array at an offset in a larger buffer decodes to views at the right place', () => {
    const encoded = encodePutRecordsRequest({ records: [{ data: Buffer.from('abc') }] });
    const backing = new Uint8Array(encoded.length + 10);
    backing.set(encoded, 7);
    const view = backing.subarray(7, 7 + encoded.length);
    const [entry] = decodePutRecordsRequest(view).records;
    assert.ok(entry);
    assert.equal(entry.data.toString(), 'abc');
    assert.equal(entry.data.buffer, backing.buffer);
  });

  it('timestamps outside the safe integers come back as bigints, negatives as ten-byte varints', () => {
    const timestamps = [0, -1, Number.MAX_SAFE_INTEGER, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n];
    const encoded = encodePutRecordsRequest({
      records: timestamps.map((timestamp) => ({ data: Buffer.alloc(0), timestamp })),
    });
    const decoded = decodePutRecordsRequest(encoded).records.map((r) => r.timestamp);
    assert.deepEqual(decoded, [
      0,
      -1,
      Number.MAX_SAFE_INTEGER,
      2n ** 63n - 1n,
      -(2n ** 63n),
      2n ** 53n,
    ]);
    // -1: tag e8 01, then ff × 9 and 01.
    const minusOne = encodePutRecordsRequest({
      records: [{ data: Buffer.alloc(0), timestamp: -1 }],
    });
    assert.deepEqual(
      [...minusOne.subarray(-10)],
      [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
    );
  });

  it('a 1 MiB record comes back byte for byte, with a three-byte length prefix', () => {
    const data = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 0xff;
    const encoded = encodePutRecordsRequest({ streamName: 's', records: [{ data }] });
    // 1 MiB = 2^20: varint 80 80 40.
    assert.deepEqual([...encoded.subarray(7, 11)], [0x1a, 0x80, 0x80, 0x40]); // after 0a 01 73 12 xx xx xx
    const [entry] = decodePutRecordsRequest(encoded).records;
    assert.ok(entry?.data.equals(data));
  });

  it('a result of many entries decodes to what was encoded', () => {
    const records = Array.from({ length: 500 }, (_, i) =>
      i % 3 === 0
        ? { errorCode: 'DIS.4303', errorMessage: 'Exceeded traffic control limit.' }
        : { shardId: `shardId-${String(i % 7).padStart(10, '0')}`, sequenceNumber: String(i) },
    );
    const result = { failedRecordCount: 167, records };
    assert.deepEqual(decodePutRecordsResult(encodePutRecordsResult(result)), result);
  });

  it('a failedRecordCount that is not a non-negative int32 is a programming error', () => {
    for (const failedRecordCount of [-1, 1.5, 2 ** 31, Number.NaN]) {
      assert.throws(
        () => encodePutRecordsResult({ failedRecordCount, records: [] }),
        InvariantError,
      );
    }
  });
});

describe('PutRecords protobuf: proto semantics', () => {
  it('unknown fields of every wire type are skipped, at the top and inside an entry', () => {
    // prettier-ignore
    const input = bytes(
      0x18, 0x96, 0x01, //                 3 varint (unknown at the top)
      0x21, 1, 2, 3, 4, 5, 6, 7, 8, //     4 fixed64
      0x2d, 1, 2, 3, 4, //                 5 fixed32
      0x4a, 0x02, 0x08, 0x01, //           9 length-delimited
      0xc2, 0x3e, 0x00, //                 1000, length-delimited: 8002 = c2 3e (two-byte tag)
      0x82, 0xea, 0x30, 0x00, //           100000, length-delimited: 800002 = 82 ea 30 (three bytes)
      0x08, 0x05, //                       1 streamName with the wrong wire type: unknown
      0x12, 0x10, //                       2 records, entry of 16 bytes:
      0x08, 0x01, //                         1 varint (unknown in an entry)
      0x3a, 0x04, 0x0a, 0x02, 0x68, 0x69, // 7 extendedInfo: ignored
      0x1a, 0x01, 0x61, //                   3 data "a"
      0x15, 0, 0, 0, 0, //                   2 fixed32 (unknown in an entry)
      0x0a, 0x01, 0x73, //                 1 streamName "s"
    );
    assert.deepEqual(decodePutRecordsRequest(input), {
      streamName: 's',
      records: [{ data: Buffer.from('a') }],
    });
  });

  it('the last occurrence of an optional scalar wins', () => {
    // prettier-ignore
    const input = bytes(
      0x0a, 0x01, 0x61, //                 streamName "a"
      0x12, 0x0c, //                       entry of 12 bytes:
      0x2a, 0x01, 0x31, //                   partitionKey "1"
      0xe8, 0x01, 0x01, //                   timestamp 1
      0x2a, 0x01, 0x32, //                   partitionKey "2"
      0xe8, 0x01, 0x02, //                   timestamp 2
      0x0a, 0x01, 0x62, //                 streamName "b"
    );
    const decoded = decodePutRecordsRequest(input);
    assert.equal(decoded.streamName, 'b');
    const [entry] = decoded.records;
    assert.ok(entry);
    assert.equal(entry.partitionKey, '2');
    assert.equal(entry.timestamp, 2);
  });

  it('a leading byte-order mark in a string is kept, as protobuf keeps it', () => {
    const input = bytes(0x0a, 0x04, 0xef, 0xbb, 0xbf, 0x61);
    assert.equal(decodePutRecordsRequest(input).streamName, '\ufeffa');
  });

  it('an empty body is a request without records', () => {
    assert.deepEqual(decodePutRecordsRequest(new Uint8Array(0)), { records: [] });
  });

  it('a deeply nested extendedInfo or unknown message is skipped by its length, without recursion', () => {
    // 100,000 levels of { 1: { 1: { ... } } }: lengths from the inside out, bytes from the outside in.
    const lengths = [0];
    for (let i = 0; i < 100_000; i++) {
      const inner = lengths[i] ?? 0;
      lengths.push(1 + varint(inner).length + inner);
    }
    const headers: number[] = [];
    for (let i = lengths.length - 2; i >= 0; i--) headers.push(0x0a, ...varint(lengths[i] ?? 0));
    const nested = Buffer.from(headers);
    const entry = Buffer.concat([Buffer.from([0x3a, ...varint(nested.length)]), nested]);
    const input = Buffer.concat([
      Buffer.from([0x12, ...varint(entry.length)]),
      entry,
      Buffer.from([0x4a, ...varint(nested.length)]),
      nested,
    ]);
    assert.deepEqual(decodePutRecordsRequest(input).records.length, 1);
  });
});

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 128) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

describe('PutRecords protobuf: malformed input', () => {
  it('a tag cut off in its varint is a truncated varint', () => {
    assertDecodeFails(bytes(0x80), 'truncated varint', 0);
    assertDecodeFails(bytes(0x0a, 0x01, 0x61, 0xe8), 'truncated varint', 3);
  });

  it('a length or a value cut off in its varint is a truncated varint', () => {
    assertDecodeFails(bytes(0x0a), 'truncated varint', 1);
    assertDecodeFails(bytes(0x12, 0x03, 0xe8, 0x01, 0x80), 'truncated varint', 4);
  });

  it('a varint of more than ten bytes is refused, in a tag, a length, a timestamp and a skipped field', () => {
    const eleven = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
    assertDecodeFails(bytes(...eleven), 'varint longer than 10 bytes', 0);
    assertDecodeFails(bytes(0x0a, ...eleven), 'varint longer than 10 bytes', 1);
    assertDecodeFails(bytes(0x12, 13, 0xe8, 0x01, ...eleven), 'varint longer than 10 bytes', 4);
    assertDecodeFails(bytes(0x18, ...eleven), 'varint longer than 10 bytes', 1);
  });

  it('a ten-byte varint is accepted', () => {
    const ten = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
    const decoded = decodePutRecordsRequest(bytes(0x12, 12, 0xe8, 0x01, ...ten));
    assert.equal(decoded.records[0]?.timestamp, -1);
  });

  it('a length beyond the buffer, or beyond the entry that holds it, is refused', () => {
    assertDecodeFails(bytes(0x0a, 0x05, 0x61), 'length beyond the end of the message', 1);
    assertDecodeFails(bytes(0x12, 0x05, 0x1a, 0x01), 'length beyond the end of the message', 1);
    // The entry is 2 bytes long; its data claims 5 of the 7 that follow in the buffer.
    assertDecodeFails(
      bytes(0x12, 0x02, 0x1a, 0x05, 0x61, 0x62, 0x63, 0x64, 0x65),
      'length beyond the end of the message',
      3,
    );
    // A length of 2^63 must not be taken for a small one.
    assertDecodeFails(
      bytes(0x0a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01),
      'length beyond the end of the message',
      1,
    );
  });

  it('a fixed-width field cut short is refused', () => {
    assertDecodeFails(bytes(0x19, 1, 2, 3), 'truncated fixed-width field', 1);
    assertDecodeFails(bytes(0x1d, 1, 2, 3), 'truncated fixed-width field', 1);
  });

  it('groups (wire types 3 and 4) are refused, at the top and inside an entry', () => {
    assertDecodeFails(bytes(0x0b), 'group wire type (3 or 4)', 1);
    assertDecodeFails(bytes(0x0c), 'group wire type (3 or 4)', 1);
    assertDecodeFails(bytes(0x12, 0x02, 0x3b, 0x3c), 'group wire type (3 or 4)', 3);
  });

  it('wire types 6 and 7 are refused', () => {
    assertDecodeFails(bytes(0x0e), 'invalid wire type (6 or 7)', 1);
    assertDecodeFails(bytes(0x12, 0x01, 0x0f), 'invalid wire type (6 or 7)', 3);
  });

  it('field number 0 is refused, whatever its wire type', () => {
    assertDecodeFails(bytes(0x00, 0x00), 'field number 0', 0);
    assertDecodeFails(bytes(0x02, 0x00), 'field number 0', 0);
    assertDecodeFails(bytes(0x12, 0x02, 0x00, 0x00), 'field number 0', 2);
  });

  it('a tag beyond 32 bits is refused', () => {
    assertDecodeFails(bytes(0x80, 0x80, 0x80, 0x80, 0x10, 0x00), 'field number out of range', 0);
  });

  it('invalid UTF-8 in any string field is refused, and the message does not echo the input', () => {
    const invalid = [
      [0xff], //                 never valid
      [0xc0, 0x80], //           overlong NUL
      [0xed, 0xa0, 0x80], //     a UTF-16 surrogate
      [0xe2, 0x82], //           cut short
      [0xf4, 0x90, 0x80, 0x80], // beyond U+10FFFF
    ];
    for (const seq of invalid) {
      const value = [...ascii('secret'), ...seq];
      for (const tag of [0x0a, 0xf2]) {
        const head = tag === 0xf2 ? [0xf2, 0x01] : [tag];
        assertDecodeFails(
          bytes(...head, value.length, ...value),
          'invalid UTF-8 in a string field',
        );
      }
      for (const tag of [0x22, 0x2a, 0x32]) {
        assertDecodeFails(
          bytes(0x12, value.length + 2, tag, value.length, ...value),
          'invalid UTF-8 in a string field',
          4,
        );
      }
    }
    assert.throws(
      () => decodePutRecordsRequest(bytes(0x0a, 0x07, ...ascii('secret'), 0xff)),
      (err: unknown) => err instanceof Error && !err.message.includes('secret'),
    );
  });

  it('bytes that are not UTF-8 are fine in data', () => {
    const [entry] = decodePutRecordsRequest(bytes(0x12, 0x03, 0x1a, 0x01, 0xff)).records;
    assert.deepEqual(entry?.data, Buffer.from([0xff]));
  });
});

describe('PutRecords protobuf: maxRecords', () => {
  it('one entry more than maxRecords throws at that entry', () => {
    const input = bytes(0x12, 0x00, 0x12, 0x00, 0x12, 0x00);
    assert.equal(decodePutRecordsRequest(input, { maxRecords: 3 }).records.length, 3);
    assert.throws(
      () => decodePutRecordsRequest(input, { maxRecords: 2 }),
      (err: unknown) =>
        err instanceof ProtobufDecodeError && err.reason === 'too many records' && err.offset === 5,
    );
  });

  it('a 10 MB body of empty entries stops as soon as the limit is passed', () => {
    const input = Buffer.alloc(10 * 1024 * 1024);
    for (let i = 0; i < input.length; i += 2) input[i] = 0x12;
    assert.throws(
      () => decodePutRecordsRequest(input, { maxRecords: 1000 }),
      (err: unknown) =>
        err instanceof ProtobufDecodeError &&
        err.reason === 'too many records' &&
        err.offset === 2001,
    );
  });

  it('without an option the default applies', () => {
    const input = Buffer.alloc((DEFAULT_MAX_RECORDS + 1) * 2);
    for (let i = 0; i < input.length; i += 2) input[i] = 0x12;
    assert.throws(
      () => decodePutRecordsRequest(input),
      (err: unknown) => err instanceof ProtobufDecodeError && err.reason === 'too many records',
    );
    assert.equal(decodePutRecordsRequest(input.subarray(2)).records.length, DEFAULT_MAX_RECORDS);
  });

  it('the result decoder has the same limit', () => {
    const encoded = encodePutRecordsResult({
      failedRecordCount: 0,
      records: [
        { shardId: 'a', sequenceNumber: '1' },
        { shardId: 'a', sequenceNumber: '2' },
      ],
    });
    assert.throws(
      () => decodePutRecordsResult(encoded, { maxRecords: 1 }),
      (err: unknown) => err instanceof ProtobufDecodeError && err.reason === 'too many records',
    );
  });

  it('a result without its required count is refused', () => {
    assert.throws(
      () => decodePutRecordsResult(bytes(0xb2, 0x01, 0x00)),
      (err: unknown) =>
        err instanceof ProtobufDecodeError && err.reason === 'missing required field',
    );
  });
});

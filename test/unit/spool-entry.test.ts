import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toSpoolRecord } from '../../src/ingest/records.ts';
import {
  decodeEntry,
  toPutEntry,
  toRecordFields,
  type SpoolRecord,
} from '../../src/spool/entry.ts';

/** The fields the append script stores: the record's own, then receipt and index. */
function stored(record: SpoolRecord, receipt = 'r-1', index = 0): Buffer[] {
  return [...toRecordFields(record), 'receipt', receipt, 'index', String(index)].map((v) =>
    Buffer.isBuffer(v) ? v : Buffer.from(v, 'utf8'),
  );
}

describe('spool entries', () => {
  it('binary data and every key survive the trip through the stream fields byte for byte', () => {
    const data = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a, 0x7b]);
    const record = {
      data,
      partitionKey: 'k é',
      partitionId: 'shardId-0000000001',
      explicitHashKey: '42',
    };
    const entry = decodeEntry('1-0', stored(record, 'rcpt', 7));
    assert.ok(entry !== undefined);
    assert.ok(entry.record.data.equals(data));
    assert.deepEqual(
      { ...entry.record, data: undefined },
      {
        data: undefined,
        partitionKey: 'k é',
        partitionId: 'shardId-0000000001',
        explicitHashKey: '42',
      },
    );
    assert.equal(entry.receiptId, 'rcpt');
    assert.equal(entry.index, 7);
  });

  it('an empty partition key is kept as a value, not taken for a missing one', () => {
    const entry = decodeEntry('1-0', stored({ data: Buffer.from('x'), partitionKey: '' }));
    assert.equal(entry?.record.partitionKey, '');
  });

  it('an entry without data, receipt or a whole index is refused', () => {
    const full = stored({ data: Buffer.from('x') });
    const without = (name: string): Buffer[] => {
      const i = full.findIndex((b) => b.toString() === name);
      return [...full.slice(0, i), ...full.slice(i + 2)];
    };
    assert.equal(decodeEntry('1-0', without('data')), undefined);
    assert.equal(decodeEntry('1-0', without('receipt')), undefined);
    assert.equal(decodeEntry('1-0', without('index')), undefined);
    const badIndex = [...without('index'), Buffer.from('index'), Buffer.from('1.5')];
    assert.equal(decodeEntry('1-0', badIndex), undefined);
  });

  it('DIS precedence holds: partition id over explicit hash key over partition key', () => {
    const data = Buffer.from('hello');
    const put = (record: SpoolRecord) => {
      const entry = decodeEntry('5-1', stored(record));
      assert.ok(entry !== undefined);
      return toPutEntry(entry);
    };
    const all = {
      data,
      partitionKey: 'k',
      partitionId: 'shardId-0000000000',
      explicitHashKey: '7',
    };
    assert.deepEqual(put(all), { data: 'aGVsbG8=', partition_id: 'shardId-0000000000' });
    assert.deepEqual(put({ data, partitionKey: 'k', explicitHashKey: '7' }), {
      data: 'aGVsbG8=',
      explicit_hash_key: '7',
    });
    assert.deepEqual(put({ data, partitionKey: 'k' }), { data: 'aGVsbG8=', partition_key: 'k' });
  });

  it('a record without any key is keyed by its entry id, so a retry lands in the same partition', () => {
    const entry = decodeEntry('1700000000000-3', stored({ data: Buffer.from('x') }));
    assert.ok(entry !== undefined);
    assert.equal(toPutEntry(entry).partition_key, '1700000000000-3');
    assert.deepEqual(toPutEntry(entry), toPutEntry(entry));
  });

  it('an ingest record’s pointer key becomes the partition key unless the caller gave one', () => {
    const data = Buffer.from('{}');
    assert.deepEqual(toSpoolRecord({ data, pointerKey: 'user-1' }), {
      data,
      partitionKey: 'user-1',
    });
    assert.deepEqual(toSpoolRecord({ data, partitionKey: 'own', pointerKey: 'user-1', id: 'e1' }), {
      data,
      partitionKey: 'own',
    });
    assert.deepEqual(toSpoolRecord({ data, partitionId: '1', explicitHashKey: '9' }), {
      data,
      partitionId: '1',
      explicitHashKey: '9',
    });
  });
});

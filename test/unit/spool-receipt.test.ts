import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RecordVerdict } from '../../src/dis/verdicts.ts';
import { decodeEntry, toRecordFields } from '../../src/spool/entry.ts';
import type { SpoolEntry } from '../../src/spool/entry.ts';
import {
  encodeOutcome,
  parseReceiptHash,
  recordField,
  summarizeStatus,
} from '../../src/spool/receipt.ts';
import { planBatch } from '../../src/spool/settle.ts';

const written = {
  status: 'written',
  partition_id: 'shardId-0000000000',
  sequence_number: '1',
} as const;
const dead = { status: 'dead_lettered', error_code: 'DIS.4302', error_message: 'no' } as const;
const pending = { status: 'pending' } as const;

describe('receipt status', () => {
  it('is pending while any record is, whatever the others did', () => {
    assert.equal(summarizeStatus([written, pending, dead]), 'pending');
  });
  it('is written, dead_lettered or partial once every record has an outcome', () => {
    assert.equal(summarizeStatus([written, written]), 'written');
    assert.equal(summarizeStatus([dead]), 'dead_lettered');
    assert.equal(summarizeStatus([written, dead]), 'partial');
  });

  it('a stored hash reads back with per-record outcomes in order and records without one pending', () => {
    const hash = {
      owner: 'svc-a',
      stream: 'clicks',
      count: '3',
      accepted_at: String(Date.UTC(2025, 0, 2, 3, 4, 5)),
      [recordField(0)]: encodeOutcome({
        status: 'written',
        partitionId: 'shardId-0000000001',
        sequenceNumber: '9',
      }),
      [recordField(2)]: encodeOutcome({
        status: 'dead_lettered',
        errorCode: 'DIS.4302',
        errorMessage: 'gone',
      }),
    };
    assert.deepEqual(parseReceiptHash('abc', hash), {
      owner: 'svc-a',
      receipt: {
        id: 'abc',
        stream: 'clicks',
        status: 'pending',
        accepted_at: '2025-01-02T03:04:05.000Z',
        records: [
          { status: 'written', partition_id: 'shardId-0000000001', sequence_number: '9' },
          { status: 'pending' },
          { status: 'dead_lettered', error_code: 'DIS.4302', error_message: 'gone' },
        ],
      },
    });
  });

  it('an expired (empty) or foreign hash is no receipt', () => {
    assert.equal(parseReceiptHash('abc', {}), undefined);
    assert.equal(
      parseReceiptHash('abc', { owner: 'x', stream: 's', count: 'many', accepted_at: '1' }),
      undefined,
    );
  });
});

function entries(n: number): SpoolEntry[] {
  return Array.from({ length: n }, (_, i) => {
    const fields = [
      ...toRecordFields({ data: Buffer.from(`r${i}`) }),
      'receipt',
      'r',
      'index',
      String(i),
    ];
    const entry = decodeEntry(
      `1-${i}`,
      fields.map((f) => (Buffer.isBuffer(f) ? f : Buffer.from(f))),
    );
    assert.ok(entry !== undefined);
    return entry;
  });
}

const failed = (
  errorCode: string,
  retryable: boolean,
  origin: 'record' | 'request',
): RecordVerdict => ({ status: 'failed', errorCode, errorMessage: errorCode, retryable, origin });

describe('what a batch’s verdicts mean for its entries', () => {
  it('ok is written, retryable stays pending, a record DIS refused is dead-lettered with its reason', () => {
    const batch = entries(3);
    const plan = planBatch(batch, [
      { status: 'ok', partitionId: 'shardId-0000000000', sequenceNumber: '5' },
      failed('DIS.4303', true, 'record'),
      failed('DIS.4302', false, 'record'),
    ]);
    assert.deepEqual(
      plan.written.map((w) => [w.entry.id, w.sequenceNumber]),
      [['1-0', '5']],
    );
    assert.deepEqual(
      plan.retry.map((e) => e.id),
      ['1-1'],
    );
    assert.deepEqual(
      plan.dead.map((d) => [d.id, d.errorCode]),
      [['1-2', 'DIS.4302']],
    );
    assert.equal(plan.hold, false);
  });

  it('a request refused for its content is dead-lettered; one refused for the gateway’s credentials or stream is held', () => {
    const [a, b] = entries(2);
    assert.ok(a !== undefined && b !== undefined);
    const content = planBatch([a], [failed('DIS.4200', false, 'request')]);
    assert.equal(content.dead.length, 1);
    for (const code of ['APIGW.0301', 'DIS.4301', 'DIS.4309', 'ERR_DIS_HTTP']) {
      const setup = planBatch([b], [failed(code, false, 'request')]);
      assert.deepEqual([setup.dead.length, setup.retry.length, setup.hold], [0, 1, true], code);
    }
  });
});

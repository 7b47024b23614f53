import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PutRecordsOutcome } from '../../src/dis/client.ts';
import type { RecordVerdict } from '../../src/dis/verdicts.ts';
import { classifyOutcome, countPossiblyWritten, countUnknown } from '../../src/ingest/outcome.ts';

const ok: RecordVerdict = { status: 'ok', partitionId: 'shardId-0000000000', sequenceNumber: '1' };
const request = (errorCode: string, retryable = true, retryAfterMs?: number): RecordVerdict => ({
  status: 'failed',
  errorCode,
  errorMessage: '',
  retryable,
  origin: 'request',
  ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
});
const record = (errorCode: string): RecordVerdict => ({
  status: 'failed',
  errorCode,
  errorMessage: '',
  retryable: false,
  origin: 'record',
});

function outcome(...verdicts: RecordVerdict[]): PutRecordsOutcome {
  return {
    verdicts,
    failedCount: verdicts.filter((v) => v.status === 'failed').length,
    requests: 1,
    possibleDuplicates: 0,
  };
}

describe('classifying a PutRecords outcome', () => {
  it('all written is written; anything written or judged by DIS is partial', () => {
    assert.deepEqual(classifyOutcome(outcome(ok, ok)), { kind: 'written' });
    assert.deepEqual(classifyOutcome(outcome(ok, request('ERR_DIS_TIMEOUT'))), { kind: 'partial' });
    assert.deepEqual(classifyOutcome(outcome(record('DIS.4302'))), { kind: 'partial' });
  });

  it('a timeout, a lost connection or an unreadable answer is unknown, never "nothing was written"', () => {
    assert.deepEqual(classifyOutcome(outcome(request('ERR_DIS_TIMEOUT'))), {
      kind: 'unknown',
      reason: 'no-answer',
    });
    assert.deepEqual(classifyOutcome(outcome(request('ERR_DIS_CONNECTION_LOST'))), {
      kind: 'unknown',
      reason: 'no-answer',
    });
    assert.deepEqual(classifyOutcome(outcome(request('ERR_DIS_BAD_RESPONSE'))), {
      kind: 'unknown',
      reason: 'unreadable',
    });
  });

  it('a 503 after an attempt that went unanswered is unknown: that attempt may have written', () => {
    const after = { ...request('DIS.5001'), possiblyWritten: true as const };
    assert.deepEqual(classifyOutcome(outcome(after)), { kind: 'unknown', reason: 'no-answer' });
    assert.equal(countUnknown(outcome(after)), 1);
  });

  it('one chunk refused for good and another without an answer is still unknown', () => {
    const mixed = outcome(request('APIGW.0301', false), request('ERR_DIS_CONNECTION_LOST'));
    assert.equal(classifyOutcome(mixed).kind, 'unknown');
  });

  it('refusals on every chunk are upstream errors, retryable failures unavailable: nothing was written', () => {
    assert.deepEqual(classifyOutcome(outcome(request('APIGW.0301', false))), {
      kind: 'upstream-error',
    });
    const throttled = classifyOutcome(
      outcome(request('DIS.4303', true, 2500), request('ERR_DIS_UNREACHABLE')),
    );
    assert.deepEqual(throttled, { kind: 'unavailable', retryAfterMs: 2500 });
  });

  it('records never sent (their chunk’s turn came after the deadline) were certainly not written', () => {
    assert.equal(classifyOutcome(outcome(request('ERR_DIS_NOT_SENT'))).kind, 'unavailable');
    assert.equal(countPossiblyWritten(outcome(request('ERR_DIS_NOT_SENT'))), 0);
  });

  it('counts what may be in DIS: written records and those with an unknown outcome', () => {
    const mixed = outcome(
      ok,
      request('ERR_DIS_TIMEOUT'),
      request('ERR_DIS_UNREACHABLE'),
      record('DIS.4302'),
    );
    assert.equal(countPossiblyWritten(mixed), 2);
    assert.equal(countUnknown(mixed), 1);
  });
});

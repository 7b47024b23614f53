import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  apiGatewayRefusal,
  disResultEntry,
  throttledResult,
  toDisPutResult,
} from '../../src/http/frontdoor/dis-answers.ts';

// What a DIS SDK reads from each verdict: DIS's codes as they are, the gateway's reasons as the
// codes the SDKs act on (DIS.4303 and DIS.5250 are retried by java-dis, python-dis and go-dis).

const failed = (errorCode: string, retryable: boolean) =>
  ({ status: 'failed', errorCode, errorMessage: `why ${errorCode}`, retryable }) as const;

describe('front door answers', () => {
  it('maps each verdict to what the SDKs act on', () => {
    assert.deepEqual(
      disResultEntry({ status: 'ok', partitionId: 'shardId-0000000001', sequenceNumber: '7' }),
      { partition_id: 'shardId-0000000001', sequence_number: '7' },
    );
    assert.deepEqual(disResultEntry(failed('DIS.4302', false)), {
      error_code: 'DIS.4302',
      error_message: 'why DIS.4302',
    });
    assert.deepEqual(disResultEntry(failed('DIS.4303', true)), {
      error_code: 'DIS.4303',
      error_message: 'why DIS.4303',
    });
    for (const code of ['ERR_DIS_NOT_SENT', 'ERR_INGEST_OVERLOADED'])
      assert.deepEqual(disResultEntry(failed(code, true)), {
        error_code: 'DIS.4303',
        error_message: 'Exceeded traffic control limit.',
      });
    assert.deepEqual(disResultEntry(failed('ERR_DIS_TIMEOUT', true)), {
      error_code: 'DIS.5250',
      error_message: 'System error. why ERR_DIS_TIMEOUT',
    });
    assert.deepEqual(disResultEntry(failed('ERR_DIS_IAM', false)), {
      error_code: 'ERR_DIS_IAM',
      error_message: 'why ERR_DIS_IAM',
    });
  });

  it('counts failures from the entries, and throttles every record of a refused request', () => {
    const result = toDisPutResult({
      verdicts: [
        { status: 'ok', partitionId: 'shardId-0000000000', sequenceNumber: '1' },
        failed('ERR_DIS_NOT_SENT', true),
      ],
      failedCount: 1,
    });
    assert.equal(result.failedCount, 1);
    const throttled = throttledResult(3);
    assert.equal(throttled.failedCount, 3);
    assert.equal(throttled.records.length, 3);
    for (const entry of throttled.records)
      assert.ok('error_code' in entry && entry.error_code === 'DIS.4303');
  });

  it('refuses in the API gateway’s shape, one body per mode', () => {
    assert.deepEqual(JSON.parse(apiGatewayRefusal('aksk', 'r-1')), {
      error_msg: 'Incorrect IAM authentication information: verify aksk signature fail',
      error_code: 'APIGW.0301',
      request_id: 'r-1',
    });
    assert.match(apiGatewayRefusal('token', 'r-2'), /decrypt token fail/);
  });
});

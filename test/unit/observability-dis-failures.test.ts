import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createDisFailureLog, disFailureKind } from '../../src/observability/dis-failures.ts';
import { createLogger } from '../../src/observability/logger.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, callback) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { lines, logger: createLogger({ level: 'info', destination: stream }) };
}

describe('DIS failure log lines', () => {
  it('sorts failures into what an operator must fix and what DIS recovers from', () => {
    const put = { operation: 'PutRecords' };
    assert.equal(disFailureKind({ ...put, status: 401, authFailure: true }), 'credentials');
    assert.equal(disFailureKind({ ...put, status: 400, disCode: 'DIS.4301' }), 'refused');
    assert.equal(disFailureKind({ ...put, status: 429 }), 'throttled');
    assert.equal(disFailureKind({ ...put, status: 503 }), 'failing');
    assert.equal(
      disFailureKind({ ...put, status: 'error', errorCode: 'ERR_DIS_TIMEOUT' }),
      'unreachable',
    );
  });

  it('writes one line per kind per interval, then says how many it left out', () => {
    let now = 0;
    const { lines, logger } = capture();
    const log = createDisFailureLog(logger, () => now, 10_000);
    const failing = {
      operation: 'PutRecords',
      status: 503,
      disCode: 'DIS.5000',
      disRequestId: 'r1',
    };
    log.failure(failing);
    log.failure(failing);
    log.failure({ operation: 'PutRecords', status: 'error', errorCode: 'ERR_DIS_TIMEOUT' });
    now = 4_000;
    log.failure(failing);
    now = 10_000;
    log.failure({ ...failing, disRequestId: 'r9' });
    log.breaker('open');
    logger.flush();
    assert.deepEqual(
      lines.map((l) => [l.level, l.dis_failure ?? l.breaker, l.dis_request_id, l.repeated]),
      [
        ['warn', 'failing', 'r1', undefined],
        ['warn', 'unreachable', undefined, undefined],
        ['warn', 'failing', 'r9', 2],
        ['error', 'open', undefined, undefined],
      ],
    );
  });
});

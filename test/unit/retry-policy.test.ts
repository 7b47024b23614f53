import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCircuitBreaker } from '../../src/dis/breaker.ts';
import { base64RawLength, toChunks } from '../../src/dis/chunk.ts';
import {
  DisCircuitOpenError,
  DisError,
  DisHttpError,
  toRequestFailure,
} from '../../src/dis/errors.ts';
import {
  backoffDelay,
  isAuthFailure,
  isRetryableRecordCode,
  isRetryableRequestError,
} from '../../src/dis/retry.ts';
import { parseErrorBody, parseRetryAfter } from '../../src/dis/transport.ts';

describe('which failures are retried', () => {
  it('resends only records failed with DIS.4303 or DIS.5xxx', () => {
    for (const code of ['DIS.4303', 'DIS.5000', 'DIS.5250']) assert.ok(isRetryableRecordCode(code));
    for (const code of ['DIS.4301', 'DIS.4302', 'DIS.4319', 'DIS.4201', 'DIS.43030', 'XDIS.4303']) {
      assert.equal(isRetryableRecordCode(code), false, code);
    }
  });

  it('retries whole requests on 5xx, 429, request-level throttling and connection errors only', () => {
    const http = (status: number, disCode?: string) => new DisHttpError({ status, disCode });
    assert.ok(isRetryableRequestError(http(500, 'DIS.5000')));
    assert.ok(isRetryableRequestError(http(503)));
    assert.ok(isRetryableRequestError(http(429)));
    assert.ok(isRetryableRequestError(http(400, 'DIS.4303')));
    assert.ok(isRetryableRequestError(new DisError('ERR_DIS_UNREACHABLE', 'x')));
    assert.ok(isRetryableRequestError(new DisError('ERR_DIS_CONNECTION_LOST', 'x')));
    assert.ok(isRetryableRequestError(new DisError('ERR_DIS_TIMEOUT', 'x')));
    for (const [status, code] of [
      [400, 'DIS.4301'],
      [400, 'DIS.4200'],
      [401, 'APIGW.0301'],
      [403, 'DIS.4116'],
      [413, undefined],
      [404, undefined],
    ] as const) {
      assert.equal(isRetryableRequestError(http(status, code)), false, `${status} ${code}`);
    }
    assert.equal(isRetryableRequestError(new DisCircuitOpenError(1000)), false);
    assert.equal(isRetryableRequestError(new DisError('ERR_DIS_BAD_RESPONSE', 'x')), false);
  });

  it('counts 401, APIGW.0301 and DIS.4309 as authentication failures', () => {
    assert.ok(isAuthFailure(new DisHttpError({ status: 401 })));
    assert.ok(isAuthFailure(new DisHttpError({ status: 400, disCode: 'DIS.4309' })));
    assert.ok(isAuthFailure(new DisHttpError({ status: 403, disCode: 'APIGW.0301' })));
    assert.equal(isAuthFailure(new DisHttpError({ status: 403, disCode: 'DIS.4116' })), false);
    assert.equal(isAuthFailure(new DisError('ERR_DIS_TIMEOUT', 'x')), false);
  });
});

describe('a failed request as the retry decision sees it', () => {
  it('carries DIS’s code, message, status and Retry-After when DIS answered', () => {
    const error = new DisHttpError({
      status: 429,
      disCode: 'APIGW.0308',
      disMessage: 'throttled',
      retryAfterMs: 2000,
    });
    assert.deepEqual(toRequestFailure(error), {
      kind: 'ERR_DIS_HTTP',
      code: 'APIGW.0308',
      message: 'throttled',
      status: 429,
      retryAfterMs: 2000,
      possiblyProcessed: false,
    });
    assert.deepEqual(toRequestFailure(new DisHttpError({ status: 502 })), {
      kind: 'ERR_DIS_HTTP',
      code: 'ERR_DIS_HTTP',
      message: 'DIS answered 502',
      status: 502,
      possiblyProcessed: false,
    });
  });

  it('carries our code and whether the request may have been applied when DIS did not answer', () => {
    assert.deepEqual(
      toRequestFailure(
        new DisError('ERR_DIS_TIMEOUT', 'DIS did not answer in time', { possiblyProcessed: true }),
      ),
      {
        kind: 'ERR_DIS_TIMEOUT',
        code: 'ERR_DIS_TIMEOUT',
        message: 'DIS did not answer in time',
        possiblyProcessed: true,
      },
    );
    // The breaker's own wait is no Retry-After from DIS.
    assert.equal(toRequestFailure(new DisCircuitOpenError(5000)).retryAfterMs, undefined);
  });
});

describe('backoff with full jitter', () => {
  const policy = { initialDelayMs: 50, multiplier: 2, maxDelayMs: 1000 };

  it('draws uniformly below an exponentially growing ceiling, capped', () => {
    assert.equal(
      backoffDelay(policy, 0, () => 0.999),
      49,
    );
    assert.equal(
      backoffDelay(policy, 3, () => 0.5),
      200,
    );
    assert.equal(
      backoffDelay(policy, 30, () => 0.5),
      500,
    );
    assert.equal(
      backoffDelay(policy, 4, () => 0),
      0,
    );
  });
});

describe('circuit breaker', () => {
  it('opens after repeated auth failures, fails fast, then lets one probe through after the cool-down', () => {
    let now = 1_000;
    const states: string[] = [];
    const breaker = createCircuitBreaker({
      failureThreshold: 3,
      coolDownMs: 30_000,
      now: () => now,
      onStateChange: (s) => states.push(s),
    });
    for (let i = 0; i < 2; i++) {
      breaker.acquire();
      breaker.recordAuthFailure();
    }
    assert.equal(breaker.state(), 'closed');
    breaker.acquire();
    breaker.recordAuthFailure();
    assert.equal(breaker.state(), 'open');
    assert.throws(() => {
      breaker.acquire();
    }, DisCircuitOpenError);
    assert.throws(
      () => {
        breaker.check();
      },
      (e: unknown) => {
        return e instanceof DisCircuitOpenError && e.retryAfterMs === 30_000;
      },
    );

    now += 30_000;
    assert.equal(breaker.state(), 'half-open');
    breaker.check();
    breaker.acquire(); // the probe
    assert.throws(
      () => {
        breaker.acquire();
      },
      DisCircuitOpenError,
      'only one probe at a time',
    );
    breaker.recordAuthFailure();
    assert.equal(breaker.state(), 'open', 'a failed probe opens it again');

    now += 30_000;
    breaker.acquire();
    breaker.recordSuccess();
    assert.equal(breaker.state(), 'closed');
    breaker.acquire();
    assert.deepEqual(states, ['open', 'half-open', 'open', 'half-open', 'closed']);
  });

  it('a success in between resets the count of consecutive failures', () => {
    const breaker = createCircuitBreaker({ failureThreshold: 2, coolDownMs: 1000, now: () => 0 });
    breaker.recordAuthFailure();
    breaker.recordSuccess();
    breaker.recordAuthFailure();
    assert.equal(breaker.state(), 'closed');
  });
});

describe('chunking', () => {
  const entry = (bytes: number) => ({ data: Buffer.alloc(bytes, 1).toString('base64') });

  it('computes raw sizes from Base64 without decoding', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 1000, 1024 * 1024]) {
      assert.equal(base64RawLength(Buffer.alloc(n).toString('base64')), n);
    }
  });

  it('splits by record count and by raw bytes, keeping order', () => {
    const records = Array.from({ length: 1201 }, () => entry(10));
    const chunks = toChunks(records, { maxRecords: 500, maxBytes: 4 * 1024 * 1024 });
    assert.deepEqual(
      chunks.map((c) => c.length),
      [500, 500, 201],
    );
    assert.deepEqual(
      chunks.flat(),
      records.map((_, i) => i),
    );

    const big = [entry(600), entry(600), entry(600), entry(100)];
    assert.deepEqual(toChunks(big, { maxRecords: 500, maxBytes: 1300 }), [
      [0, 1],
      [2, 3],
    ]);
  });

  it('sends a record larger than the byte limit alone', () => {
    assert.deepEqual(
      toChunks([entry(10), entry(5000), entry(10)], { maxRecords: 10, maxBytes: 100 }),
      [[0], [1], [2]],
    );
  });
});

describe('DIS error bodies and Retry-After', () => {
  it('reads both the DIS and the API gateway error shapes', () => {
    assert.deepEqual(
      parseErrorBody('{"errorCode":"DIS.4301","message":"Stream does not exist."}'),
      {
        code: 'DIS.4301',
        message: 'Stream does not exist.',
      },
    );
    assert.deepEqual(
      parseErrorBody(
        '{"error_msg":"verify aksk signature fail","error_code":"APIGW.0301","request_id":"r"}',
      ),
      { code: 'APIGW.0301', message: 'verify aksk signature fail' },
    );
    assert.deepEqual(parseErrorBody('<html>bad gateway</html>'), {});
    assert.deepEqual(parseErrorBody('{"unrelated":1}'), {});
  });

  it('reads Retry-After as seconds or as a date', () => {
    assert.equal(parseRetryAfter('2', 0), 2000);
    assert.equal(parseRetryAfter('Thu, 01 Jan 1970 00:00:05 GMT', 1000), 4000);
    assert.equal(parseRetryAfter(undefined, 0), undefined);
    assert.equal(parseRetryAfter('soon', 0), undefined);
  });
});

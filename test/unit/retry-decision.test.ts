import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DisCircuitOpenError,
  DisError,
  DisHttpError,
  toRequestFailure,
} from '../../src/dis/errors.ts';
import {
  decideNextStep,
  startSending,
  type AttemptResult,
  type ChunkSending,
  type NextStep,
  type RetryPolicy,
} from '../../src/dis/retry-decision.ts';
import { splitRefused } from '../../src/dis/isolation.ts';
import type { RecordVerdict } from '../../src/dis/verdicts.ts';
import type { PutRecordsResultEntry } from '../../src/dis/wire.ts';

const NOW = 1_000_000;

function policyWith(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  return {
    backoff: { initialDelayMs: 50, multiplier: 2, maxDelayMs: 2000 },
    maxAttempts: 10,
    minAttemptMs: 50,
    random: () => 0.5,
    ...overrides,
  };
}

const written = (sequence: number): PutRecordsResultEntry => ({
  partition_id: 'shardId-0000000000',
  sequence_number: String(sequence),
});
const THROTTLED: PutRecordsResultEntry = {
  error_code: 'DIS.4303',
  error_message: 'Exceeded traffic control limit.',
};
const recordFailed = (code: string, message = 'm'): PutRecordsResultEntry => ({
  error_code: code,
  error_message: message,
});

const answered = (...records: PutRecordsResultEntry[]): AttemptResult => ({
  kind: 'answered',
  records,
});
const failedWith = (error: DisError): AttemptResult => ({
  kind: 'failed',
  failure: toRequestFailure(error),
});
const http = (status: number, disCode?: string, retryAfterMs?: number): AttemptResult =>
  failedWith(new DisHttpError({ status, disCode, disMessage: `says ${status}`, retryAfterMs }));
const TIMEOUT = failedWith(
  new DisError('ERR_DIS_TIMEOUT', 'DIS did not answer in time', { possiblyProcessed: true }),
);
const UNREACHABLE = failedWith(new DisError('ERR_DIS_UNREACHABLE', 'cannot connect to DIS'));

/** The state to send with; fails the test when the step stops. */
function toSend(step: NextStep): Extract<NextStep, { action: 'send' }> {
  assert.equal(step.action, 'send', `expected a resend, got ${JSON.stringify(step)}`);
  return step;
}

/** Verdicts in input order; fails the test when the step sends again. */
function verdictsOf(step: NextStep): RecordVerdict[] {
  assert.equal(step.action, 'stop', `expected a stop, got ${JSON.stringify(step)}`);
  return [...step.verdicts].sort(([a], [b]) => a - b).map(([, verdict]) => verdict);
}

/** A chunk of records 0..n-1 whose first attempt is out, with the deadline `ms` from NOW. */
function firstAttempt(n: number, ms = 5000, policy = policyWith()): ChunkSending {
  const indices = Array.from({ length: n }, (_, i) => i);
  return toSend(startSending(indices, NOW + ms, NOW, policy)).state;
}

/** Feeds results one after another, each at NOW; returns the last step. */
function run(state: ChunkSending, results: AttemptResult[], policy = policyWith()): NextStep {
  let step: NextStep | undefined;
  let current = state;
  for (const result of results) {
    step = decideNextStep(current, result, NOW, policy);
    if (step.action === 'stop') return step;
    current = step.state;
  }
  assert.ok(step !== undefined);
  return step;
}

describe('starting a chunk', () => {
  it('sends every record at once, without delay, when time is left', () => {
    const step = toSend(startSending([4, 5, 6], NOW + 1, NOW, policyWith()));
    assert.deepEqual(step.state.pending, [4, 5, 6]);
    assert.equal(step.delayMs, 0);
    assert.equal(step.possibleDuplicates, 0);
    assert.equal(step.leftToRetry, undefined);
  });

  it('when the deadline passed before the chunk’s turn, nothing is sent: ERR_DIS_NOT_SENT, retryable', () => {
    const step = startSending([7, 8], NOW, NOW, policyWith());
    assert.deepEqual(verdictsOf(step), [
      {
        status: 'failed',
        errorCode: 'ERR_DIS_NOT_SENT',
        errorMessage: 'not sent: the deadline passed before this chunk’s turn',
        retryable: true,
        retryAfterMs: 50,
        origin: 'request',
      },
      {
        status: 'failed',
        errorCode: 'ERR_DIS_NOT_SENT',
        errorMessage: 'not sent: the deadline passed before this chunk’s turn',
        retryable: true,
        retryAfterMs: 50,
        origin: 'request',
      },
    ]);
  });
});

describe('after DIS answered', () => {
  it('when every record is written, stops with their partitions and sequence numbers', () => {
    assert.deepEqual(verdictsOf(run(firstAttempt(2), [answered(written(10), written(11))])), [
      { status: 'ok', partitionId: 'shardId-0000000000', sequenceNumber: '10' },
      { status: 'ok', partitionId: 'shardId-0000000000', sequenceNumber: '11' },
    ]);
  });

  it('when DIS throttles half the records, only those are resent, in order', () => {
    const state = firstAttempt(4);
    const step = toSend(
      decideNextStep(
        state,
        answered(written(0), THROTTLED, written(1), THROTTLED),
        NOW,
        policyWith(),
      ),
    );
    assert.deepEqual(step.state.pending, [1, 3]);
    assert.deepEqual([...step.state.settled.keys()].sort(), [0, 2]);
    assert.deepEqual(step.leftToRetry, { kind: 'records', records: 2 });
    assert.equal(step.possibleDuplicates, 0);
    // Progress holds the backoff at its first step: a draw below 50 ms.
    assert.equal(step.delayMs, 25);
    assert.equal(step.state.attemptsWithoutProgress, 0);
    assert.equal(state.settled.size, 0, 'the state given in is left as it was');
  });

  it('when the resent records are written, every verdict lands at its record’s input index', () => {
    const step = run(firstAttempt(4), [
      answered(written(0), THROTTLED, written(1), THROTTLED),
      answered(written(2), written(3)),
    ]);
    assert.deepEqual(
      verdictsOf(step).map((v) => (v.status === 'ok' ? v.sequenceNumber : v.errorCode)),
      ['0', '2', '1', '3'],
    );
  });

  it('resends records failed with DIS.5xxx too, and takes any other record code as final', () => {
    const step = toSend(
      run(firstAttempt(3), [
        answered(
          recordFailed('DIS.5250'),
          recordFailed('DIS.4302', 'Partition does not exist.'),
          recordFailed('DIS.4319'),
        ),
      ]),
    );
    assert.deepEqual(step.state.pending, [0]);
    assert.deepEqual(step.state.settled.get(1), {
      status: 'failed',
      errorCode: 'DIS.4302',
      errorMessage: 'Partition does not exist.',
      retryable: false,
      origin: 'record',
    });
    assert.equal(step.state.settled.get(2)?.status, 'failed');
  });

  it('when DIS writes nothing, the backoff ceiling grows and the attempt counts as one without progress', () => {
    const step = toSend(run(firstAttempt(2), [answered(THROTTLED, THROTTLED)]));
    assert.deepEqual(step.state.pending, [0, 1]);
    assert.equal(step.state.attemptsWithoutProgress, 1);
    assert.equal(step.delayMs, 50, 'half of the second ceiling, 100 ms');
  });

  it('under throttling that lets some records through, maxAttempts is never used up', () => {
    const policy = policyWith({ maxAttempts: 2 });
    const state = firstAttempt(6, 60_000, policy);
    const step = run(
      state,
      [
        answered(...Array.from({ length: 6 }, () => THROTTLED)),
        answered(written(0), ...Array.from({ length: 5 }, () => THROTTLED)),
        answered(...Array.from({ length: 5 }, () => THROTTLED)),
      ],
      policy,
    );
    assert.deepEqual(toSend(step).state.pending, [1, 2, 3, 4, 5], 'progress reset the count');
  });
});

describe('after a request failed', () => {
  it('resends every pending record on 5xx, 429, a request-level DIS.4303 and connection errors', () => {
    for (const result of [
      http(500, 'DIS.5000'),
      http(503),
      http(429, 'APIGW.0308'),
      http(400, 'DIS.4303'),
      UNREACHABLE,
      TIMEOUT,
      failedWith(new DisError('ERR_DIS_CONNECTION_LOST', 'reset', { possiblyProcessed: true })),
    ]) {
      const step = toSend(run(firstAttempt(3), [result]));
      assert.deepEqual(step.state.pending, [0, 1, 2]);
      assert.deepEqual(step.leftToRetry, { kind: 'request', records: 3 });
    }
  });

  it('after records were written, a failed request resends only those still pending', () => {
    const step = toSend(
      run(firstAttempt(3), [answered(written(0), THROTTLED, THROTTLED), http(503)]),
    );
    assert.deepEqual(step.state.pending, [1, 2]);
    assert.equal(step.state.settled.get(0)?.status, 'ok');
  });

  it('honours a Retry-After longer than the backoff', () => {
    assert.equal(toSend(run(firstAttempt(1), [http(429, 'APIGW.0308', 2000)])).delayMs, 2000);
    assert.equal(toSend(run(firstAttempt(1), [http(503, undefined, 1)])).delayMs, 50);
  });

  for (const [status, code] of [
    [400, 'DIS.4200'],
    [400, 'DIS.4301'],
    [401, 'APIGW.0301'],
    [403, 'DIS.4116'],
    [413, 'DIS.4200'],
  ] as const) {
    it(`never retries ${status} ${code}: the records fail for good with DIS's code`, () => {
      const step = run(firstAttempt(2), [http(status, code, 5000)]);
      assert.equal(step.leftToRetry, undefined);
      for (const verdict of verdictsOf(step)) {
        assert.deepEqual(verdict, {
          status: 'failed',
          errorCode: code,
          errorMessage: `says ${status}`,
          retryable: false,
          origin: 'request',
        });
      }
    });
  }

  it('a failure without a DIS code reports ours', () => {
    const [verdict] = verdictsOf(run(firstAttempt(1), [http(404)]));
    assert.ok(verdict?.status === 'failed');
    assert.equal(verdict.errorCode, 'ERR_DIS_HTTP');
  });

  it('an open circuit, an IAM failure or an unreadable answer fails the records retryable, without a resend', () => {
    for (const error of [
      new DisCircuitOpenError(30_000),
      new DisError('ERR_DIS_IAM', 'IAM refused'),
      new DisError('ERR_DIS_BAD_RESPONSE', 'PutRecords: 1 results for 2 records'),
    ]) {
      const verdicts = verdictsOf(run(firstAttempt(2), [failedWith(error)]));
      for (const verdict of verdicts) {
        assert.deepEqual(verdict, {
          status: 'failed',
          errorCode: error.code,
          errorMessage: error.message,
          retryable: true,
          origin: 'request',
        });
      }
    }
  });

  it('a resend after an attempt that went unanswered counts its records as possible duplicates', () => {
    const afterTimeout = toSend(run(firstAttempt(3), [TIMEOUT]));
    assert.equal(afterTimeout.possibleDuplicates, 3);
    assert.equal(afterTimeout.state.unanswered, true);
    const afterThat = toSend(decideNextStep(afterTimeout.state, http(503), NOW, policyWith()));
    assert.equal(afterThat.possibleDuplicates, 0, 'the 503 was an answer: DIS applied nothing');
    const unreachable = toSend(run(firstAttempt(3), [UNREACHABLE]));
    assert.equal(unreachable.possibleDuplicates, 0, 'nothing was sent');
  });

  it('an unanswered attempt marks later verdicts possiblyWritten, whatever the last attempt said', () => {
    const policy = policyWith({ maxAttempts: 3 });
    const gaveUp = verdictsOf(
      run(firstAttempt(2, 60_000, policy), [TIMEOUT, http(503), http(503)], policy),
    );
    for (const verdict of gaveUp) {
      assert.ok(verdict.status === 'failed');
      assert.equal(verdict.errorCode, 'ERR_DIS_HTTP');
      assert.equal(verdict.possiblyWritten, true);
    }

    const judged = verdictsOf(
      run(firstAttempt(2), [TIMEOUT, answered(written(0), recordFailed('DIS.4302'))]),
    );
    assert.deepEqual(judged[0], {
      status: 'ok',
      partitionId: 'shardId-0000000000',
      sequenceNumber: '0',
    });
    assert.equal(judged[1]?.status === 'failed' && judged[1].possiblyWritten, true);

    const refused = verdictsOf(run(firstAttempt(1), [TIMEOUT, http(401, 'APIGW.0301')]));
    assert.equal(refused[0]?.status === 'failed' && refused[0].possiblyWritten, true);
  });

  it('attempts that all got answers, or never left, leave the verdicts unmarked', () => {
    const policy = policyWith({ maxAttempts: 2 });
    for (const results of [
      [UNREACHABLE, UNREACHABLE],
      [http(503), http(503)],
    ]) {
      for (const verdict of verdictsOf(run(firstAttempt(2, 60_000, policy), results, policy))) {
        assert.ok(verdict.status === 'failed');
        assert.equal(verdict.possiblyWritten, undefined);
      }
    }
  });
});

describe('deadline exhaustion and attempts without progress', () => {
  it('stops when the next attempt could not start with minAttemptMs left: the throttled records fail retryable with a hint', () => {
    // Waiting 50 ms (random 0.5 of the 100 ms ceiling) and 50 ms for the attempt needs 100 ms.
    const step = run(firstAttempt(2, 99), [answered(THROTTLED, THROTTLED)]);
    assert.deepEqual(step.leftToRetry, { kind: 'records', records: 2 });
    for (const verdict of verdictsOf(step)) {
      assert.deepEqual(verdict, {
        status: 'failed',
        errorCode: 'DIS.4303',
        errorMessage: 'Exceeded traffic control limit.',
        retryable: true,
        retryAfterMs: 50,
        origin: 'record',
      });
    }
  });

  it('still sends when the wait and minAttemptMs fit exactly before the deadline', () => {
    const step = toSend(run(firstAttempt(2, 100), [answered(THROTTLED, THROTTLED)]));
    assert.equal(step.delayMs, 50);
  });

  it('after request failures, the records fail retryable with the last failure’s code and a hint no shorter than the first backoff', () => {
    const step = run(firstAttempt(2, 40), [http(500, 'DIS.5000')], policyWith({ random: () => 0 }));
    assert.deepEqual(step.leftToRetry, { kind: 'request', records: 2 });
    for (const verdict of verdictsOf(step)) {
      assert.deepEqual(verdict, {
        status: 'failed',
        errorCode: 'DIS.5000',
        errorMessage: 'says 500',
        retryable: true,
        retryAfterMs: 50,
        origin: 'request',
      });
    }
  });

  it('a Retry-After beyond the deadline ends the retries and becomes the hint', () => {
    const step = run(firstAttempt(1, 1000), [http(429, 'APIGW.0308', 3000)]);
    const [verdict] = verdictsOf(step);
    assert.ok(verdict?.status === 'failed');
    assert.equal(verdict.retryAfterMs, 3000);
    assert.equal(verdict.retryable, true);
  });

  it('gives up after maxAttempts attempts in a row without progress, time left or not', () => {
    const policy = policyWith({ maxAttempts: 3 });
    const state = firstAttempt(1, 3_600_000, policy);
    toSend(run(state, [UNREACHABLE, UNREACHABLE], policy));
    const [verdict] = verdictsOf(run(state, [UNREACHABLE, UNREACHABLE, UNREACHABLE], policy));
    assert.ok(verdict?.status === 'failed');
    assert.equal(verdict.errorCode, 'ERR_DIS_UNREACHABLE');
    assert.equal(verdict.retryable, true);
  });
});

describe('backoff with full jitter', () => {
  it('waits a draw of the injected randomness below a ceiling that doubles per fruitless attempt, capped', () => {
    const policy = policyWith({ random: () => 0.999, maxAttempts: 100 });
    let state = firstAttempt(1, 3_600_000, policy);
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      const step = toSend(decideNextStep(state, http(503), NOW, policy));
      delays.push(step.delayMs);
      state = step.state;
    }
    assert.deepEqual(delays, [99, 199, 399, 799, 1598, 1998, 1998]);
  });

  it('a draw of 0 resends at once', () => {
    const policy = policyWith({ random: () => 0 });
    assert.equal(toSend(run(firstAttempt(1, 5000, policy), [http(503)], policy)).delayMs, 0);
  });
});

describe('records of several callers in one chunk', () => {
  // Records 0–1 belong to a caller whose deadline is 120 ms away, 2–3 to one with 5 s.
  const deadlines = [NOW + 120, NOW + 120, NOW + 5000, NOW + 5000];
  const shared = (): ChunkSending =>
    toSend(startSending([0, 1, 2, 3], NOW + 5000, NOW, policyWith(), deadlines)).state;

  it('a record whose caller’s deadline leaves no time for the next attempt stops; the others are resent', () => {
    // A fruitless attempt waits 50 ms (0.5 of the 100 ms ceiling) + 50 ms for the attempt: 100 ms.
    const first = toSend(
      decideNextStep(
        shared(),
        answered(THROTTLED, THROTTLED, THROTTLED, THROTTLED),
        NOW,
        policyWith(),
      ),
    );
    assert.deepEqual(first.state.pending, [0, 1, 2, 3], 'all fit at NOW');
    const later = toSend(
      decideNextStep(
        first.state,
        answered(THROTTLED, THROTTLED, THROTTLED, THROTTLED),
        NOW + 30,
        policyWith(),
      ),
    );
    assert.deepEqual(later.state.pending, [2, 3]);
    assert.deepEqual(later.settledNow, [0, 1]);
    for (const index of [0, 1]) {
      const verdict = later.state.settled.get(index);
      assert.ok(verdict?.status === 'failed' && verdict.retryable);
      assert.equal(verdict.errorCode, 'DIS.4303');
    }
  });

  it('a record whose deadline passed before the chunk’s turn is not sent; the rest is', () => {
    const step = toSend(startSending([0, 1, 2, 3], NOW + 5000, NOW + 200, policyWith(), deadlines));
    assert.deepEqual(step.state.pending, [2, 3]);
    assert.deepEqual(step.settledNow, [0, 1]);
    assert.equal(step.state.settled.get(0)?.status, 'failed');
  });

  it('every step says which verdicts it made final', () => {
    const step = toSend(
      decideNextStep(
        shared(),
        answered(written(0), THROTTLED, written(1), THROTTLED),
        NOW,
        policyWith(),
      ),
    );
    assert.deepEqual(step.settledNow, [0, 2]);
    const last = decideNextStep(step.state, answered(written(2), written(3)), NOW, policyWith());
    assert.equal(last.action, 'stop');
    assert.deepEqual(last.settledNow, [1, 3]);
  });
});

describe('refusals that may name a record', () => {
  for (const [status, code] of [
    [400, 'DIS.4200'],
    [400, 'DIS.4201'],
    [400, 'DIS.4302'],
    [400, 'DIS.4319'],
    [413, 'DIS.4200'],
  ] as const) {
    it(`${status} ${code} over several records is offered for isolation`, () => {
      const step = run(firstAttempt(3), [http(status, code)]);
      assert.ok(step.action === 'stop');
      assert.deepEqual(step.isolable, [0, 1, 2]);
    });
  }

  for (const [status, code] of [
    [400, 'DIS.4301'],
    [400, 'DIS.4117'],
    [401, 'APIGW.0301'],
    [403, 'DIS.4116'],
  ] as const) {
    it(`${status} ${code} is about the stream, project or credentials: not isolable`, () => {
      const step = run(firstAttempt(3), [http(status, code)]);
      assert.ok(step.action === 'stop');
      assert.equal(step.isolable, undefined);
    });
  }

  it('a lone record, or records an unanswered attempt may have written, are not isolable', () => {
    const alone = run(firstAttempt(1), [http(400, 'DIS.4201')]);
    assert.ok(alone.action === 'stop' && alone.isolable === undefined);
    const unanswered = run(firstAttempt(3), [TIMEOUT, http(400, 'DIS.4201')]);
    assert.ok(unanswered.action === 'stop' && unanswered.isolable === undefined);
  });
});

describe('splitting refused records', () => {
  const groups = [
    { end: 3, deadline: NOW },
    { end: 5, deadline: NOW },
    { end: 9, deadline: NOW },
  ];

  it('by caller first, when they span several', () => {
    assert.deepEqual(splitRefused([0, 1, 2, 3, 4, 5, 6, 7, 8], groups, 32), [
      [0, 1, 2],
      [3, 4],
      [5, 6, 7, 8],
    ]);
    assert.deepEqual(splitRefused([2, 3, 7], groups, 32), [[2], [3], [7]]);
  });

  it('in halves within one caller, or when the callers would take more requests than are left', () => {
    assert.deepEqual(splitRefused([5, 6, 7, 8], groups, 32), [
      [5, 6],
      [7, 8],
    ]);
    assert.deepEqual(splitRefused([0, 1, 2, 3, 4], undefined, 32), [
      [0, 1, 2],
      [3, 4],
    ]);
    assert.deepEqual(splitRefused([0, 1, 2, 3, 4, 5, 6, 7, 8], groups, 2), [
      [0, 1, 2, 3, 4],
      [5, 6, 7, 8],
    ]);
  });
});

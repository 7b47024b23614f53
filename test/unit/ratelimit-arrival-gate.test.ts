import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createArrivalGate } from '../../src/ratelimit/arrival-gate.ts';
import { toBuckets } from '../../src/ratelimit/buckets.ts';
import { createMemoryRateLimiter } from '../../src/ratelimit/memory-limiter.ts';
import { createRateLimitPolicy } from '../../src/ratelimit/policy.ts';
import { seededRandom } from '../helpers/dis-fixtures.ts';

function setup() {
  let now = 1_700_000_000_000;
  const policy = createRateLimitPolicy({
    default: { requestsPerS: 10, burst: 5, recordsPerS: 100, bytesPerS: 1_000 },
    principals: {},
    streams: {
      s: { partitions: 1, type: 'COMMON', limits: { recordsPerS: 50, bytesPerS: 2_000 } },
      t: { partitions: 1, type: 'COMMON', limits: { recordsPerS: 1e6, bytesPerS: 1e9 } },
    },
  });
  const clock = () => now;
  const limiter = createMemoryRateLimiter({ policy, now: clock });
  const gate = createArrivalGate(limiter, { policy, now: clock });
  return {
    policy,
    limiter,
    gate,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('the arrival gate', () => {
  it('refuses a closed principal until one request could pass again, and only it', async () => {
    const { gate, advance } = setup();
    // 3,000 bytes on a 1,000 B/s bucket with a 2 s burst: about 1 s of debt.
    const charged = await gate.limiter.check({
      principal: 'p',
      stream: 't',
      records: 1,
      bytes: 3_000,
    });
    assert.equal(charged.allowed, true, 'a cost above the burst passes a full bucket');
    const refusal = gate.refusal('p', 't');
    assert.ok(refusal !== undefined);
    assert.equal(refusal.allowed, false);
    assert.equal(refusal.source, 'arrival');
    assert.equal(refusal.limitedBy, 'principal-bytes');
    assert.ok(
      refusal.retryAfterMs > 900 && refusal.retryAfterMs <= 1_000,
      `${refusal.retryAfterMs}`,
    );
    assert.match(refusal.headers.RateLimit ?? '', /^"principal-bytes";r=0;t=1$/);
    assert.match(refusal.headers['RateLimit-Policy'] ?? '', /"stream-bytes"/);
    assert.equal(gate.refusal('q', 't'), undefined, 'another principal is not refused');
    advance(1_000);
    assert.equal(gate.refusal('p', 't'), undefined, 'open again once one byte fits');
  });

  it('refuses every principal of a closed stream', async () => {
    const { gate } = setup();
    await gate.limiter.check({ principal: 'p', stream: 's', records: 60, bytes: 1 });
    assert.equal(gate.refusal('other', 's')?.limitedBy, 'stream-records');
    assert.equal(gate.refusal('other', 't'), undefined);
  });

  it('a decision that reopens a scope clears it; one that did not look at a scope keeps it', async () => {
    const { gate, advance } = setup();
    await gate.limiter.check({ principal: 'p', stream: 's', records: 60, bytes: 1 });
    assert.ok(gate.refusal('p', 's'));
    await gate.limiter.check({
      principal: 'p',
      stream: 's',
      records: 0,
      bytes: 1,
      principalOnly: true,
    });
    assert.ok(gate.refusal('x', 's'), 'a principal-only charge says nothing about the stream');
    advance(2_000);
    await gate.limiter.check({ principal: 'p', stream: 's', records: 1, bytes: 1 });
    assert.equal(gate.refusal('x', 's'), undefined);
  });

  it('never refuses a request the limiter would admit (random traffic)', async () => {
    const random = seededRandom(12);
    const { gate, limiter, advance } = setup();
    let refusals = 0;
    for (let i = 0; i < 5_000; i += 1) {
      advance(Math.floor(random() * 20));
      const principal = random() < 0.5 ? 'p' : 'q';
      const stream = random() < 0.7 ? 's' : 't';
      if (gate.refusal(principal, stream) !== undefined) {
        refusals += 1;
        // The smallest request there is: if even this is denied, so would the refused one be.
        const probe = await limiter.check({ principal, stream, records: 1, bytes: 1 });
        assert.equal(probe.allowed, false, `refused at step ${i} although a request would pass`);
        continue;
      }
      await gate.limiter.check({
        principal,
        stream,
        records: 1 + Math.floor(random() * 20),
        bytes: 1 + Math.floor(random() * 400),
        principalOnly: random() < 0.1,
      });
    }
    assert.ok(refusals > 100, `the gate refused ${refusals} times`);
  });

  it('a principal-only charge takes no stream bucket', () => {
    const { policy } = setup();
    const buckets = toBuckets(policy, {
      principal: 'p',
      stream: 's',
      records: 0,
      bytes: 10,
      principalOnly: true,
    });
    assert.deepEqual(
      buckets.map((b) => b.name),
      ['principal-requests', 'principal-records', 'principal-bytes'],
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRateLimitPolicy } from '../../src/ratelimit/policy.ts';
import type { RateLimitPolicyConfig } from '../../src/ratelimit/policy.ts';

const MIB = 1024 * 1024;

const base: RateLimitPolicyConfig = {
  default: { requestsPerS: 100, burst: 200, recordsPerS: 5000, bytesPerS: 5 * MIB },
  principals: {},
  streams: {},
};

describe('rate limit policy', () => {
  it("a COMMON stream's limit is 1000 records/s and 1 MiB/s per partition, with one second of burst", () => {
    const policy = createRateLimitPolicy({
      ...base,
      streams: { clicks: { partitions: 3, type: 'COMMON' } },
    });
    assert.deepEqual(policy.forStream('clicks'), {
      records: { ratePerS: 3000, burst: 3000 },
      bytes: { ratePerS: 3 * MIB, burst: 3 * MIB },
    });
  });

  it("an ADVANCED stream's limit is 2000 records/s and 5 MiB/s per partition", () => {
    const policy = createRateLimitPolicy({
      ...base,
      streams: { orders: { partitions: 2, type: 'ADVANCED' } },
    });
    assert.deepEqual(policy.forStream('orders'), {
      records: { ratePerS: 4000, burst: 4000 },
      bytes: { ratePerS: 10 * MIB, burst: 10 * MIB },
    });
  });

  it("a stream's configured limits and bursts replace the partition defaults field by field", () => {
    const policy = createRateLimitPolicy({
      ...base,
      streams: {
        a: { partitions: 4, type: 'COMMON', limits: { recordsPerS: 500, burstBytes: 100 } },
        b: { partitions: 1, type: 'COMMON', limits: { bytesPerS: 2048, burstRecords: 10 } },
      },
    });
    assert.deepEqual(policy.forStream('a'), {
      records: { ratePerS: 500, burst: 500 },
      bytes: { ratePerS: 4 * MIB, burst: 100 },
    });
    assert.deepEqual(policy.forStream('b'), {
      records: { ratePerS: 1000, burst: 10 },
      bytes: { ratePerS: 2048, burst: 2048 },
    });
  });

  it('an unknown stream gets the limits of a one-partition COMMON stream, not unlimited', () => {
    const policy = createRateLimitPolicy(base);
    assert.deepEqual(policy.forStream('nope'), {
      records: { ratePerS: 1000, burst: 1000 },
      bytes: { ratePerS: MIB, burst: MIB },
    });
  });

  it("a principal without override gets the default, records and bytes bursting to two seconds' worth", () => {
    const policy = createRateLimitPolicy(base);
    assert.deepEqual(policy.forPrincipal('svc-a'), {
      requests: { ratePerS: 100, burst: 200 },
      records: { ratePerS: 5000, burst: 10_000 },
      bytes: { ratePerS: 5 * MIB, burst: 10 * MIB },
    });
  });

  it('an override that only raises the request rate keeps the default burst duration', () => {
    const policy = createRateLimitPolicy({
      ...base,
      principals: { fast: { requestsPerS: 1000 }, exact: { requestsPerS: 1000, burst: 1500 } },
    });
    assert.deepEqual(policy.forPrincipal('fast').requests, { ratePerS: 1000, burst: 2000 });
    assert.deepEqual(policy.forPrincipal('exact').requests, { ratePerS: 1000, burst: 1500 });
    assert.deepEqual(policy.forPrincipal('fast').records, { ratePerS: 5000, burst: 10_000 });
  });

  it('an override of records and bytes takes its own bursts or two seconds of its own rate', () => {
    const policy = createRateLimitPolicy({
      ...base,
      default: { ...base.default, burstRecords: 7000 },
      principals: { big: { recordsPerS: 20_000, bytesPerS: MIB, burstBytes: 3 * MIB } },
    });
    assert.deepEqual(policy.forPrincipal('big').records, { ratePerS: 20_000, burst: 40_000 });
    assert.deepEqual(policy.forPrincipal('big').bytes, { ratePerS: MIB, burst: 3 * MIB });
    assert.deepEqual(policy.forPrincipal('other').records, { ratePerS: 5000, burst: 7000 });
  });

  it('principal names that are Object.prototype members get the default, not a crash', () => {
    const policy = createRateLimitPolicy(base);
    assert.deepEqual(policy.forPrincipal('__proto__'), policy.forPrincipal('x'));
    assert.deepEqual(policy.forPrincipal('toString'), policy.forPrincipal('x'));
    assert.deepEqual(policy.forStream('constructor'), policy.forStream('x'));
  });

  it('a zero or negative rate or a burst below one, in the default, an override or a stream, is refused when the policy is built', () => {
    assert.throws(
      () => createRateLimitPolicy({ ...base, default: { ...base.default, requestsPerS: 0 } }),
      RangeError,
    );
    assert.throws(
      () => createRateLimitPolicy({ ...base, default: { ...base.default, burst: 0.5 } }),
      RangeError,
    );
    assert.throws(
      () => createRateLimitPolicy({ ...base, principals: { bad: { bytesPerS: -1 } } }),
      RangeError,
    );
    assert.throws(
      () =>
        createRateLimitPolicy({
          ...base,
          streams: { s: { partitions: 1, type: 'COMMON', limits: { recordsPerS: 0 } } },
        }),
      RangeError,
    );
  });
});

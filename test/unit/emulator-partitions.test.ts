import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_HASH_KEY } from '../../src/dis/wire.ts';
import { createPartitionLog } from '../../src/emulator/partition-log.ts';
import {
  hashRanges,
  parseUnsigned63,
  partitionForHash,
  partitionKeyHash,
} from '../../src/emulator/partitions.ts';
import { createWriteBucket } from '../../src/emulator/throttle.ts';

describe('partition hashing and ranges', () => {
  it('when keys are hashed, the worked values of dis-api §4 come out', () => {
    assert.equal(partitionKeyHash('user-42'), 8516795111299649485n);
    assert.equal(partitionKeyHash('0'), 5750288053043553775n);
    assert.equal(partitionKeyHash('abc'), 1153291594369224624n);
  });

  it('when the space is split, ranges are contiguous, cover [0, 2^63-1] and the last takes the remainder', () => {
    for (const n of [1, 2, 3, 7, 50]) {
      const ranges = hashRanges(n);
      assert.equal(ranges.length, n);
      const [first] = ranges;
      assert.ok(first);
      assert.equal(first.lo, 0n);
      assert.equal(ranges.at(-1)?.hi, MAX_HASH_KEY);
      for (let i = 1; i < n; i += 1) assert.equal(ranges[i]?.lo, (ranges[i - 1]?.hi ?? -2n) + 1n);
      if (n > 1) assert.equal(first.hi, MAX_HASH_KEY / BigInt(n) - 1n);
    }
    const three = hashRanges(3);
    assert.equal(partitionForHash(three, MAX_HASH_KEY), 2);
    assert.equal(partitionForHash(three, 3074457345618258601n), 0);
    assert.equal(partitionForHash(three, 3074457345618258602n), 1);
  });

  it('parses only decimals in 0..2^63-1', () => {
    assert.equal(parseUnsigned63('9223372036854775807'), MAX_HASH_KEY);
    for (const bad of ['9223372036854775808', '-1', '1e3', '', ' 1', '0x10']) {
      assert.equal(parseUnsigned63(bad), undefined, bad);
    }
  });
});

describe('partition log', () => {
  it('when records exceed the count, the oldest go first and sequence numbers keep counting', () => {
    const log = createPartitionLog({ maxAgeMs: 1000, maxRecordsPerPartition: 2 });
    for (let i = 0; i < 5; i += 1) log.append({ data: Buffer.from([i]), timestamp: i });
    log.trim(4);
    assert.equal(log.first(), 3n);
    assert.equal(log.next(), 5n);
    assert.equal(log.get(2n), undefined);
    assert.deepEqual(log.get(4n)?.data, Buffer.from([4]));
    assert.equal(log.firstAtOrAfter(4), 4n);
    assert.equal(log.firstAtOrAfter(99), 5n);
  });

  it('when many records are trimmed, memory stays bounded and lookups still work', () => {
    const log = createPartitionLog({ maxAgeMs: 1e12, maxRecordsPerPartition: 10 });
    for (let i = 0; i < 5000; i += 1) {
      log.append({ data: Buffer.alloc(1), timestamp: 0 });
      log.trim(0);
    }
    assert.equal(log.snapshot().length, 10);
    assert.equal(log.get(4990n)?.sequenceNumber, 4990n);
  });

  it('when records age out, they are dropped by the clock', () => {
    const log = createPartitionLog({ maxAgeMs: 100, maxRecordsPerPartition: 1000 });
    log.append({ data: Buffer.alloc(1), timestamp: 0 });
    log.append({ data: Buffer.alloc(1), timestamp: 50 });
    log.trim(120);
    assert.equal(log.first(), 1n);
    log.trim(151);
    assert.equal(log.first(), 2n);
  });
});

describe('write bucket', () => {
  it('when a second passes, the budget refills proportionally', () => {
    const bucket = createWriteBucket({ recordsPerSecond: 10, bytesPerSecond: 100 }, 0);
    for (let i = 0; i < 10; i += 1) assert.equal(bucket.tryTake(1, 0), true);
    assert.equal(bucket.tryTake(1, 0), false);
    assert.equal(bucket.tryTake(1, 100), true);
    assert.equal(bucket.tryTake(1, 100), false);
    assert.equal(bucket.tryTake(101, 5000), false);
  });
});

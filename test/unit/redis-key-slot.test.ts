import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keySlot } from '../../src/redis/key-slot.ts';

// Expected slots as `CLUSTER KEYSLOT` of redis-server 7.0 answered them, hash-tag edge cases of the
// Cluster specification included.
const CASES: readonly (readonly [string, number])[] = [
  ['123456789', 12739],
  ['foo', 12182],
  ['bar', 5061],
  ['{user1000}.following', 3443],
  ['foo{}{bar}', 8363],
  ['foo{{bar}}zap', 4015],
  ['foo{bar}{zap}', 5061],
  ['gw:spool:{ZGlzLWE}', 9252],
  ['é{ü}', 9552],
];

describe('Redis Cluster key slots', () => {
  for (const [key, slot] of CASES) {
    it(`${JSON.stringify(key)} is in slot ${slot}, as Redis computes it`, () => {
      assert.equal(keySlot(key), slot);
      assert.equal(keySlot(Buffer.from(key, 'utf8')), slot);
    });
  }
});

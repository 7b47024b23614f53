import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isValidIdempotencyKey, toIdempotencyRedisKey } from '../../src/idempotency/key.ts';

describe('Idempotency-Key', () => {
  it('accepts 1 to 255 printable ASCII characters, spaces included', () => {
    assert.equal(isValidIdempotencyKey('8e03978e-40d5-43e8-bc93-6894a57f9324'), true);
    assert.equal(isValidIdempotencyKey('a'), true);
    assert.equal(isValidIdempotencyKey('order 42: "retry" {x}~'), true);
    assert.equal(isValidIdempotencyKey('x'.repeat(255)), true);
  });

  it('refuses empty, longer than 255, control characters and non-ASCII', () => {
    assert.equal(isValidIdempotencyKey(''), false);
    assert.equal(isValidIdempotencyKey('x'.repeat(256)), false);
    assert.equal(isValidIdempotencyKey('tab\there'), false);
    assert.equal(isValidIdempotencyKey('line\nbreak'), false);
    assert.equal(isValidIdempotencyKey('del\x7f'), false);
    assert.equal(isValidIdempotencyKey('café'), false);
    assert.equal(isValidIdempotencyKey('\u{1F600}'), false);
  });

  it('the Redis key keeps principals apart even when their names carry braces and colons', () => {
    const a = toIdempotencyRedisKey('gw:idem', 'a}:{b', 'c', 'k');
    const b = toIdempotencyRedisKey('gw:idem', 'a', 'b}:{c', 'k');
    assert.notEqual(a, b);
    assert.match(a, /^gw:idem:\{[A-Za-z0-9_-]+\}:[A-Za-z0-9_-]+:[A-Za-z0-9_-]{43}$/);
    assert.equal(a, toIdempotencyRedisKey('gw:idem', 'a}:{b', 'c', 'k'));
    assert.notEqual(a, toIdempotencyRedisKey('gw:idem', 'a}:{b', 'c', 'K'));
  });
});

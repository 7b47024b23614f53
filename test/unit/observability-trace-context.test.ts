import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  childTraceHeaders,
  parseTraceparent,
  parseTracestate,
  randomHex,
  startTrace,
} from '../../src/observability/trace-context.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const VALID = `00-${TRACE}-${PARENT}-01`;

describe('W3C trace context', () => {
  it('accepts a valid traceparent, and a later version with more fields', () => {
    assert.deepEqual(parseTraceparent([VALID]), { traceId: TRACE, parentId: PARENT, flags: '01' });
    assert.equal(parseTraceparent([`cc-${TRACE}-${PARENT}-01-what-comes-later`])?.traceId, TRACE);
  });

  it('refuses what the spec calls invalid', () => {
    for (const header of [
      `ff-${TRACE}-${PARENT}-01`,
      `00-${TRACE}-${PARENT}-01-extra`,
      `00-${'0'.repeat(32)}-${PARENT}-01`,
      `00-${TRACE}-${'0'.repeat(16)}-01`,
      `00-${TRACE.toUpperCase()}-${PARENT}-01`,
      `00-${TRACE}-${PARENT}`,
      `0-${TRACE}-${PARENT}-01`,
      '',
    ]) {
      assert.equal(parseTraceparent([header]), undefined, header);
    }
    assert.equal(parseTraceparent([VALID, VALID]), undefined, 'two traceparent fields');
    assert.equal(parseTraceparent(undefined), undefined);
  });

  it('passes tracestate on only when every member is well-formed and it is short enough', () => {
    assert.equal(
      parseTracestate(['congo=t61rcWkgMzE', 'rojo=00f067aa0ba902b7']),
      'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7',
    );
    assert.equal(parseTracestate(['vendor@tenant=x, other=y']), 'vendor@tenant=x,other=y');
    assert.equal(parseTracestate(['Upper=x']), undefined);
    assert.equal(parseTracestate(['novalue']), undefined);
    assert.equal(
      parseTracestate([Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(',')]),
      undefined,
    );
    assert.equal(
      parseTracestate([`k=${'v'.repeat(255)},j=${'v'.repeat(255)}`]),
      undefined,
      'over 512',
    );
  });

  it('continues the caller’s trace with a span of its own, or starts one', () => {
    const continued = startTrace([VALID], ['congo=t61rcWkgMzE']);
    assert.equal(continued.traceId, TRACE);
    assert.equal(continued.parentId, PARENT);
    assert.notEqual(continued.spanId, PARENT);
    assert.match(continued.spanId, /^[0-9a-f]{16}$/);
    assert.equal(continued.tracestate, 'congo=t61rcWkgMzE');
    const started = startTrace(['garbage'], ['congo=t61rcWkgMzE']);
    assert.match(started.traceId, /^[0-9a-f]{32}$/);
    assert.notEqual(started.traceId, TRACE);
    assert.equal(started.parentId, undefined);
    assert.equal(started.tracestate, undefined, 'no state without the trace it belongs to');
    assert.equal(started.flags, '00');
  });

  it('a child span keeps the trace and flags, never a zero id', () => {
    const zeroFirst = (
      (queue) => (bytes: number) =>
        queue.shift() ?? 'ab'.repeat(bytes)
    )(['0'.repeat(16), '1'.repeat(16)]);
    const child = childTraceHeaders(startTrace([VALID], undefined), zeroFirst);
    assert.equal(child.traceparent, `00-${TRACE}-${'1'.repeat(16)}-01`);
    assert.equal(child.tracestate, undefined);
  });
});

describe('trace ids from the random pool', () => {
  it('are hex of the asked length and all distinct across several refills of the pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const span = randomHex(8);
      const trace = randomHex(16);
      assert.match(span, /^[0-9a-f]{16}$/);
      assert.match(trace, /^[0-9a-f]{32}$/);
      seen.add(span).add(trace);
    }
    assert.equal(seen.size, 6000, '3000 × (8 + 16) bytes is 17 refills of a 4 KiB pool');
  });
});

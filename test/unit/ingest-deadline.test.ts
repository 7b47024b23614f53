import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitUntil } from '../../src/ingest/deadline.ts';

describe('waiting for a call until the caller’s deadline', () => {
  it('a call that settles first gives its value', async () => {
    const result = await waitUntil(Promise.resolve(7), Date.now() + 1000, Date.now);
    assert.deepEqual(result, { late: false, value: 7 });
  });

  it('a call still running at the deadline is handed back, not abandoned, and its value still comes', async () => {
    const pending = sleep(80).then(() => 'written');
    const result = await waitUntil(pending, Date.now() + 10, Date.now);
    if (!result.late) assert.fail('the call was still running at the deadline');
    assert.equal(await result.pending, 'written');
  });

  it('a call that fails first rejects with its error; one that fails after the deadline does not surface here', async () => {
    await assert.rejects(
      waitUntil(Promise.reject(new Error('refused')), Date.now() + 1000, Date.now),
      /refused/,
    );
    const failsLate = sleep(50).then(() => {
      throw new Error('late failure');
    });
    const result = await waitUntil(failsLate, Date.now() + 5, Date.now);
    assert.equal(result.late, true);
    await assert.rejects(failsLate, /late failure/);
  });
});

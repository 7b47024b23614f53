import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reckon, runLoad, startHaRig, statusSummary } from '../helpers/process-ha-rig.ts';
import { startRedis } from '../helpers/redis-server.ts';

// DIS answers in 2.5 s, callers wait 1 s (`Prefer: wait=1`): every first attempt ends in 504 while
// DIS still writes its records. Idempotent callers retry with the same key and body until they get
// verdicts; plain callers do not retry. Afterwards DIS is read back.

describe('a DIS slower than the caller’s wait', () => {
  it('an idempotent retry after a 504 gets the stored verdict (Idempotent-Replayed) and DIS holds each record once; records written after a plain 504 are counted as possible duplicates', async (t) => {
    const redis = await startRedis();
    t.after(() => redis.stop());
    const rig = await startHaRig(t, { redis: { url: redis.url }, gateways: 2 });
    rig.emulator.faults.setLatency(2500);
    const ledger = await runLoad(rig, {
      callers: { idempotent: 8, sync: 2 },
      durationMs: 6000,
      waitS: 1,
    });
    rig.emulator.faults.clear();
    const result = await reckon(rig, ledger);
    const idempotentAcked = [...ledger.records.values()].filter(
      (r) => r.kind === 'idempotent' && r.acked,
    ).length;
    const idempotentRequests = [...ledger.records.values()].filter(
      (r) => r.kind === 'idempotent',
    ).length;
    const duplicatesCounted = await rig.metricSum('gateway_dis_possible_duplicates_total');
    const plainFirst504s = ledger.answers.filter((a) => a.kind === 'sync' && a.status === 504);
    t.diagnostic(`DIS 2.5 s, wait 1 s: ${result.line}`);
    t.diagnostic(`statuses: ${statusSummary(ledger.answers)}`);
    t.diagnostic(
      `idempotent: ${idempotentAcked} of ${idempotentRequests} records acknowledged, ${ledger.replayed} requests ended in a replayed verdict; ` +
        `plain 504s ${plainFirst504s.length}; possible duplicates counted ${duplicatesCounted}`,
    );
    assert.deepEqual(result.lost, []);
    assert.equal(result.duplicated, 0, 'no record twice in DIS');
    assert.ok(idempotentAcked > 0);
    assert.equal(
      idempotentAcked,
      idempotentRequests,
      'every idempotent request ended with its verdict',
    );
    // Three records a request; no request can be answered within 1 s, so each first answer was
    // a 504 and each verdict came from a retry.
    assert.equal(ledger.replayed * 3, idempotentAcked, 'every verdict was a replayed one');
    // Plain callers were told 504 for records DIS then wrote: each is counted.
    assert.ok(
      duplicatesCounted >= result.unackedInDis,
      `counted ${duplicatesCounted} possible duplicates for ${result.unackedInDis} unacknowledged records in DIS`,
    );
  });
});

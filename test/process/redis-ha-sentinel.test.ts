import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  checkReceipts,
  reckon,
  runLoad,
  startHaRig,
  statusSummary,
  timeline,
  type HaRigOptions,
} from '../helpers/process-ha-rig.ts';
import type { Cleanup } from '../helpers/cleanup.ts';
import { startSentinelGroup } from '../helpers/redis-topology.ts';

// Gateway processes on a Sentinel group (one master, one replica, three Sentinels) under a steady
// load whose every record carries a unique id. What callers were told is compared with what DIS
// (the emulator) holds once the spool has drained.

const THROTTLED = {
  share: 0.5,
  errorCode: 'DIS.4303',
  errorMessage: 'Exceeded traffic control limit.',
};

/** A Sentinel group of its own and two gateway processes on it (both stopped after the test). */
async function sentinelRig(t: Cleanup, spool?: HaRigOptions['spool']) {
  const group = await startSentinelGroup();
  t.after(() => group.stop());
  const rig = await startHaRig(t, {
    redis: { sentinels: group.addresses, name: group.name },
    gateways: 2,
    ...(spool === undefined ? {} : { spool }),
  });
  return { group, rig };
}

describe('gateway processes on Redis Sentinel (1 master, 1 replica, 3 Sentinels)', () => {
  it('SENTINEL FAILOVER while DIS throttles: no 202 lost, every receipt reachable', async (t) => {
    const { group, rig } = await sentinelRig(t);
    // Half the records throttled: the forwarder keeps retrying, so the spool holds entries
    // (sent and unsent) when the master changes.
    rig.emulator.faults.failRecords(THROTTLED);
    let switchedAt = 0;
    const ledger = await runLoad(rig, {
      callers: { async: 8, idempotent: 2, sync: 2 },
      durationMs: 5000,
      during: async (elapsed) => {
        await sleep(2000);
        await group.failover();
        switchedAt = elapsed();
        // Acknowledged writes wait for a replica: until Sentinel has turned the old master into
        // one and it has resynced, they answer 503.
        await group.replicasOnline(1);
        await sleep(1500);
      },
    });
    rig.emulator.faults.clear();
    const result = await reckon(rig, ledger);
    const receipts = await checkReceipts(rig, ledger);
    const afterSwitch = ledger.answers.filter((a) => a.atMs > switchedAt);
    t.diagnostic(`Sentinel switchover under throttling: ${result.line}`);
    t.diagnostic(`statuses: ${statusSummary(ledger.answers)}`);
    t.diagnostic(`timeline: ${timeline(ledger.answers)}`);
    t.diagnostic(
      `switchover reported at ${(switchedAt / 1000).toFixed(1)} s; 202s after it ${afterSwitch.filter((a) => a.status === 202).length}; ` +
        `receipts ${receipts.reachable}/${ledger.receipts.length} reachable, ${receipts.written} written; ` +
        `possible duplicates counted ${await rig.metricSum('gateway_dis_possible_duplicates_total')}`,
    );
    assert.deepEqual(result.lost, [], 'every 202 is in DIS');
    assert.deepEqual(receipts.problems, []);
    assert.equal(receipts.written, ledger.receipts.length, 'every receipt says written');
    assert.ok(
      afterSwitch.some((a) => a.status === 202),
      'the gateways went on after the switch',
    );
  });

  it('SIGKILL of the new master right after a failover, min_replica_acks 1: nothing acknowledged lost', async (t) => {
    const { group, rig } = await sentinelRig(t, {
      min_replica_acks: 1,
      replica_ack_timeout_ms: 300,
    });
    const marks: string[] = [];
    const ledger = await runLoad(rig, {
      callers: { async: 8, idempotent: 3, sync: 1 },
      durationMs: 4000,
      during: async (elapsed) => {
        await sleep(1500);
        const promoted = await group.failover();
        marks.push(`switch ${(elapsed() / 1000).toFixed(1)} s`);
        // The old master is resyncing from the new one: kill the new one now.
        await sleep(300);
        await promoted.kill();
        marks.push(`kill ${(elapsed() / 1000).toFixed(1)} s`);
        // The Sentinels see it down after down-after-milliseconds and promote the old master.
        await group.masterOtherThan(promoted.port, 40_000);
        marks.push(`promoted again ${(elapsed() / 1000).toFixed(1)} s`);
        await promoted.start();
        await group.replicasOnline(1);
        marks.push(`replica back ${(elapsed() / 1000).toFixed(1)} s`);
        await sleep(1500);
      },
    });
    const result = await reckon(rig, ledger);
    const receipts = await checkReceipts(rig, ledger);
    t.diagnostic(`kill after failover: ${result.line}`);
    t.diagnostic(`statuses: ${statusSummary(ledger.answers)}`);
    t.diagnostic(`timeline: ${timeline(ledger.answers)}`);
    t.diagnostic(
      `${marks.join(', ')}; receipts ${receipts.reachable}/${ledger.receipts.length} reachable, ${receipts.written} written; ` +
        `replication timeouts ${await rig.metricSum('gateway_redis_replication_timeouts_total')}; ` +
        `possible duplicates counted ${await rig.metricSum('gateway_dis_possible_duplicates_total')}`,
    );
    assert.deepEqual(result.lost, [], 'every acknowledged record is in DIS');
    assert.deepEqual(receipts.problems, []);
    assert.equal(receipts.written, ledger.receipts.length);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  checkReceipts,
  reckon,
  runLoad,
  startHaRig,
  statusSummary,
  type TimedStatus,
} from '../helpers/process-ha-rig.ts';
import { startRedisCluster, withNode, type RedisClusterRig } from '../helpers/redis-topology.ts';
import { waitFor } from '../helpers/wait.ts';

// Gateway processes on a real Redis Cluster of three masters with a replica each, under a steady
// load of sync, async (spooled), idempotent and rate-limited callers whose every record carries a
// unique id; afterwards DIS (the emulator) is read back and compared with what callers were told.

const LIMIT_PER_S = 20;
const CALLERS = { sync: 3, async: 3, idempotent: 3, limited: 3 } as const;

describe('gateway processes on a real Redis Cluster (3 masters + 3 replicas)', () => {
  let cluster: RedisClusterRig;
  before(async () => {
    cluster = await startRedisCluster();
  });
  after(() => cluster.stop());

  it('without a fault: no 5xx, no limit decided in memory, three instances hold one principal at its limit, nothing acknowledged lost', async (t) => {
    const rig = await startHaRig(t, {
      redis: { nodes: cluster.seeds },
      gateways: 3,
      limitedRequestsPerS: LIMIT_PER_S,
    });
    const ledger = await runLoad(rig, { callers: CALLERS, durationMs: 6000 });
    const result = await reckon(rig, ledger);
    const receipts = await checkReceipts(rig, ledger);
    const fallbacks = await rig.metricSum('gateway_ratelimit_fallbacks_total');
    const memoryDecisions = await rig.metricSum(
      'gateway_ratelimit_decisions_total{result="allowed",source="memory"}',
    );
    const allowed = LIMIT_PER_S * (ledger.elapsedMs / 1000) + 5;
    const ratio = ledger.limitedAdmitted / allowed;
    t.diagnostic(`cluster, no fault: ${result.line}`);
    t.diagnostic(`statuses: ${statusSummary(ledger.answers)}`);
    t.diagnostic(
      `limited principal: ${ledger.limitedAdmitted} admitted of ${allowed.toFixed(1)} allowed (ratio ${ratio.toFixed(3)}); ` +
        `rate-limit fallbacks ${fallbacks}; receipts ${receipts.reachable}/${ledger.receipts.length} reachable`,
    );
    assert.deepEqual(
      ledger.answers.filter((a) => a.status >= 500 || a.status === 0).slice(0, 5),
      [],
    );
    assert.equal(fallbacks, 0, 'every limit was decided through Redis');
    assert.equal(memoryDecisions, 0);
    assert.ok(ratio <= 1.05 && ratio >= 0.8, `ratio ${ratio.toFixed(3)}`);
    assert.deepEqual(result.lost, []);
    assert.equal(result.duplicated, 0);
    assert.deepEqual(receipts.problems, []);
    assert.equal(receipts.written, ledger.receipts.length);
  });

  it('CLUSTER FAILOVER, then SIGKILL of the master that owns the spool’s slot: nothing acknowledged lost, 503s only while that slot is being failed over', async (t) => {
    const rig = await startHaRig(t, { redis: { nodes: cluster.seeds }, gateways: 2 });
    const windows: { from: number; to: number; what: string }[] = [];
    /** The master of the spool's slot; undefined while the slot has none. */
    const masterPort = async (): Promise<number | undefined> =>
      (await cluster.masterOf(rig.spoolKey).catch(() => undefined))?.port;
    const ledger = await runLoad(rig, {
      callers: { sync: 3, async: 5, idempotent: 4 },
      durationMs: 4000,
      during: async (elapsed) => {
        await sleep(1500);
        // A planned switchover: the replica of the spool's master takes over.
        const first = await cluster.masterOf(rig.spoolKey);
        const replica = await cluster.replicaOf(first.port);
        let from = elapsed();
        await withNode(replica.port, (r) => r.call('CLUSTER', 'FAILOVER'));
        await waitFor('the replica to take over', async () =>
          (await masterPort()) === replica.port ? true : undefined,
        );
        await cluster.settled();
        windows.push({ from, to: elapsed(), what: 'CLUSTER FAILOVER' });
        await sleep(1500);
        // A crash of the new master: its replica (the old master) is promoted after the node
        // timeout. Restarted, the killed node rejoins as a replica, so acknowledged writes to the
        // slot (which wait for one replica) can be confirmed again.
        from = elapsed();
        await replica.kill();
        await waitFor(
          'the old master to be promoted again',
          async () => ((await masterPort()) === first.port ? true : undefined),
          30_000,
        );
        await replica.start();
        await cluster.settled();
        windows.push({ from, to: elapsed(), what: 'SIGKILL of the master' });
        await sleep(1500);
      },
    });
    const result = await reckon(rig, ledger);
    const receipts = await checkReceipts(rig, ledger);
    const duplicates = await rig.metricSum('gateway_dis_possible_duplicates_total');
    const outside = (a: TimedStatus): boolean =>
      !windows.some((w) => a.atMs >= w.from && a.atMs <= w.to + 1000);
    const unavailable = ledger.answers.filter((a) => a.status === 503 || a.status === 0);
    t.diagnostic(`cluster failovers: ${result.line}`);
    t.diagnostic(`statuses: ${statusSummary(ledger.answers)}`);
    t.diagnostic(
      `fault windows: ${windows.map((w) => `${w.what} ${(w.from / 1000).toFixed(1)}-${(w.to / 1000).toFixed(1)} s`).join(', ')}; ` +
        `503s ${unavailable.length} (outside the windows ${unavailable.filter(outside).length}); ` +
        `possible duplicates counted ${duplicates}; receipts ${receipts.reachable}/${ledger.receipts.length} reachable, ${receipts.written} written`,
    );
    assert.deepEqual(result.lost, [], 'every acknowledged record is in DIS');
    assert.deepEqual(receipts.problems, []);
    assert.deepEqual(unavailable.filter(outside).slice(0, 5), []);
    assert.ok(
      ledger.answers.filter((a) => a.status === 202).length > 100,
      'the load went on around the faults',
    );
  });
});

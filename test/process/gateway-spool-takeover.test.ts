import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import {
  mapLimit,
  startSpoolRig,
  waitFor,
  type HttpAnswer,
  type SpoolRig,
} from '../helpers/process-spool-rig.ts';

const WEBHOOKS = 300;
const RECORD_REQUESTS = 20;
const RECORDS_PER_REQUEST = 10;
const IN_FLIGHT = 16;
const BATCH_SIZE = 50;
/** Below put_timeout_ms: a batch is in flight most of the time, and DIS still answers it. */
const SLOW_DIS_MS = 600;
const TAKEOVER_BOUND_MS = 20_000;

const Accepted = z.object({ receipt: z.string().min(1) });
const Problem = z.object({ code: z.string(), status: z.number() });
const ReceiptBody = z.object({
  status: z.string(),
  records: z.array(z.object({ status: z.string(), error_code: z.string().optional() }).loose()),
});
/** What the emulator holds: a webhook envelope, or one of the records sent with respond-async. */
const StoredRecord = z.union([
  z.object({ delivery_id: z.string() }).loose(),
  z.object({ rec: z.string() }),
]);

function receiptOf(answer: HttpAnswer, what: string): string {
  assert.equal(answer.status, 202, `${what}: ${answer.text}`);
  const { receipt } = Accepted.parse(JSON.parse(answer.text));
  assert.equal(answer.headers.location, `/v1/receipts/${receipt}`, `${what}: Location`);
  return receipt;
}

/** How often each accepted id is in DIS; ids DIS holds that nobody sent are an error. */
function copiesIn(stored: readonly string[], accepted: ReadonlySet<string>): Map<string, number> {
  const copies = new Map<string, number>();
  for (const text of stored) {
    const record = StoredRecord.parse(JSON.parse(text));
    const id = 'delivery_id' in record ? record.delivery_id : record.rec;
    assert.ok(accepted.has(id), `DIS holds ${id}, which was never accepted`);
    copies.set(id, (copies.get(id) ?? 0) + 1);
  }
  return copies;
}

async function receiptStatus(rig: SpoolRig, url: string, token: string, id: string) {
  const answer = await rig.getReceipt(url, token, id);
  assert.equal(answer.status, 200, `receipt ${id}: ${answer.text}`);
  return ReceiptBody.parse(JSON.parse(answer.text));
}

describe('gateway processes sharing a Redis spool', () => {
  it('when the first gateway is killed with SIGKILL while entries are pending, a second one writes every accepted record and duplicates come only from batches in flight', async (t) => {
    const rig = await startSpoolRig(t, {
      partitions: 2,
      disRequestTimeoutMs: 900,
      spool: {
        claim_idle_ms: 4000,
        put_timeout_ms: 1500,
        block_ms: 200,
        batch_size: BATCH_SIZE,
        retry_initial_ms: 100,
        retry_max_ms: 1000,
      },
    });
    const { faults } = rig.emulator;
    // DIS is down while everything is accepted: gateway A reads batches and keeps them pending.
    faults.failNext({ count: 1_000_000, operation: 'PutRecords', status: 503 });
    const a = await rig.spawn();

    const run = randomBytes(4).toString('hex');
    type Work = { kind: 'webhook'; id: string } | { kind: 'records'; ids: string[] };
    const work: Work[] = [
      ...Array.from({ length: WEBHOOKS }, (_, i): Work => ({
        kind: 'webhook',
        id: `${run}-wh-${i}`,
      })),
      ...Array.from({ length: RECORD_REQUESTS }, (_, r): Work => ({
        kind: 'records',
        ids: Array.from({ length: RECORDS_PER_REQUEST }, (_, i) => `${run}-rec-${r}-${i}`),
      })),
    ];
    const answers = await mapLimit(work, IN_FLIGHT, async (item) =>
      item.kind === 'webhook'
        ? rig.postWebhook(a.url, item.id, JSON.stringify({ action: 'opened', id: item.id }))
        : rig.postRecords(
            a.url,
            item.ids.map((rec) => ({ rec })),
          ),
    );
    const accepted = new Set<string>();
    const webhookReceipts: string[] = [];
    const recordReceipts: string[] = [];
    work.forEach((item, i) => {
      const answer = answers[i];
      assert.ok(answer !== undefined);
      if (item.kind === 'webhook') {
        webhookReceipts.push(receiptOf(answer, `delivery ${item.id}`));
        accepted.add(item.id);
      } else {
        recordReceipts.push(receiptOf(answer, 'records request'));
        for (const id of item.ids) accepted.add(id);
      }
    });
    assert.equal(accepted.size, WEBHOOKS + RECORD_REQUESTS * RECORDS_PER_REQUEST);
    assert.equal(rig.stored().length, 0, 'nothing reached DIS while it failed');
    await waitFor(
      'gateway A to hold a batch pending',
      async () => ((await rig.pending()) >= BATCH_SIZE ? true : undefined),
      10_000,
    );

    // DIS recovers but is slow: A writes batch after batch, and is killed with one in flight.
    faults.clear();
    faults.setLatency(SLOW_DIS_MS);
    // Past its own backlog, A reads full batches of new entries: wait for two, then kill it
    // half-way through the next one.
    await waitFor(
      'gateway A to write two batches',
      () => (rig.stored().length >= 2 * BATCH_SIZE ? true : undefined),
      15_000,
    );
    await sleep(SLOW_DIS_MS / 2);
    const pendingBeforeKill = await rig.pending();
    const killedAt = performance.now();
    await a.stop('SIGKILL');
    // A can change nothing in Redis any more: this is exactly what it had read and not acked.
    const pendingAtKill = await rig.pending();
    const writtenByA = rig.stored().length;
    const unreadAtKill = (await rig.redis.xlen(rig.spoolKey)) - pendingAtKill;
    faults.clear();
    assert.ok(pendingAtKill > 0, 'entries were pending at A when it died');

    const b = await rig.spawn();
    await waitFor(
      'every accepted record in DIS and the spool drained',
      async () => {
        const copies = copiesIn(rig.stored(), accepted);
        if (copies.size < accepted.size) return undefined;
        return (await rig.redis.xlen(rig.spoolKey)) === 0 ? true : undefined;
      },
      TAKEOVER_BOUND_MS,
    );
    const takeoverMs = performance.now() - killedAt;

    const copies = copiesIn(rig.stored(), accepted);
    let duplicates = 0;
    for (const n of copies.values()) duplicates += n - 1;
    t.diagnostic(
      `accepted ${accepted.size} (${WEBHOOKS} deliveries, ${RECORD_REQUESTS * RECORDS_PER_REQUEST} records); ` +
        `written ${copies.size} unique (${writtenByA} stored before the kill); duplicates ${duplicates}; ` +
        `pending at kill ${pendingAtKill} (${pendingBeforeKill} just before), ${unreadAtKill} unread; ` +
        `takeover ${(takeoverMs / 1000).toFixed(2)} s from the kill to the last record`,
    );
    assert.equal(copies.size, accepted.size, 'every accepted record is in DIS');
    assert.ok(
      duplicates <= pendingAtKill,
      `${duplicates} duplicates, but only ${pendingAtKill} entries were in flight at A`,
    );
    assert.equal(await rig.pending(), 0, 'nothing left pending');

    // Every receipt, read through B, says written: the sender reads its own, an operator the rest.
    const checks = [
      ...webhookReceipts.map((id) => ({ id, token: rig.operatorToken })),
      ...recordReceipts.map((id) => ({ id, token: rig.senderToken })),
    ];
    const statuses = await mapLimit(
      checks,
      IN_FLIGHT,
      async (c) => (await receiptStatus(rig, b.url, c.token, c.id)).status,
    );
    assert.deepEqual(
      statuses.filter((s) => s !== 'written'),
      [],
      'receipts that do not say written',
    );
    const foreign = await rig.getReceipt(b.url, rig.senderToken, webhookReceipts[0] ?? '');
    assert.equal(foreign.status, 404, 'a sender cannot read a webhook delivery’s receipt');
  });

  it('a full spool answers 503 with Retry-After, and a record DIS refuses for good is dead-lettered and says so in its receipt', async (t) => {
    const rig = await startSpoolRig(t, {
      partitions: 1,
      disRequestTimeoutMs: 900,
      spool: {
        max_entries: 5,
        claim_idle_ms: 3500,
        put_timeout_ms: 1000,
        block_ms: 100,
        batch_size: 10,
        retry_initial_ms: 100,
        retry_max_ms: 500,
      },
    });
    const { faults } = rig.emulator;
    faults.failNext({ count: 1_000_000, operation: 'PutRecords', status: 503 });
    const gateway = await rig.spawn();
    const run = randomBytes(4).toString('hex');
    const delivery = (i: number) => ({
      id: `${run}-full-${i}`,
      body: JSON.stringify({ action: 'closed', n: i }),
    });

    const receipts: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const { id, body } = delivery(i);
      receipts.push(receiptOf(await rig.postWebhook(gateway.url, id, body), `delivery ${i}`));
    }
    const sixth = delivery(5);
    const full = await rig.postWebhook(gateway.url, sixth.id, sixth.body);
    assert.equal(full.status, 503, full.text);
    assert.match(String(full.headers['retry-after']), /^\d+$/, 'Retry-After in seconds');
    assert.match(String(full.headers['content-type']), /^application\/problem\+json/);
    assert.equal(Problem.parse(JSON.parse(full.text)).code, 'ERR_SPOOL_FULL');
    assert.equal(await rig.redis.xlen(rig.spoolKey), 5, 'nothing was trimmed to make room');

    // DIS answers again, but refuses these records for good.
    faults.clear();
    faults.failRecords({ share: 1, errorCode: 'DIS.4302', errorMessage: 'Invalid record.' });
    const dead = await waitFor(
      'the receipts to say dead_lettered',
      async () => {
        const bodies = await Promise.all(
          receipts.map((id) => receiptStatus(rig, gateway.url, rig.operatorToken, id)),
        );
        return bodies.every((r) => r.status === 'dead_lettered') ? bodies : undefined;
      },
      15_000,
    );
    for (const receipt of dead) {
      assert.deepEqual(
        receipt.records.map((r) => [r.status, r.error_code]),
        [['dead_lettered', 'DIS.4302']],
      );
    }
    const letters = await rig.redis.xrange(rig.deadLetterKey, '-', '+');
    assert.equal(letters.length, 5, 'five entries in the dead-letter stream');
    for (const [, fields] of letters) {
      assert.equal(fields[fields.indexOf('error_code') + 1], 'DIS.4302');
    }
    await waitFor(
      'the spool to drain',
      async () => ((await rig.redis.xlen(rig.spoolKey)) === 0 ? true : undefined),
      5000,
    );

    // The refused delivery was never accepted, so the sender's retry goes through and is written.
    faults.clear();
    const retried = receiptOf(
      await rig.postWebhook(gateway.url, sixth.id, sixth.body),
      'the retried sixth delivery',
    );
    await waitFor(
      'the retried delivery to be written',
      async () =>
        (await receiptStatus(rig, gateway.url, rig.operatorToken, retried)).status === 'written'
          ? true
          : undefined,
      10_000,
    );
    assert.deepEqual(
      [...copiesIn(rig.stored(), new Set([sixth.id]))],
      [[sixth.id, 1]],
      'DIS holds the retried delivery once and none of the dead letters',
    );
  });
});

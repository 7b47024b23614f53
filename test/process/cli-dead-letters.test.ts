import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { runMain, type RunResult } from '../helpers/process-gateway.ts';
import {
  startSpoolRig,
  waitFor,
  type HttpAnswer,
  type SpoolRig,
} from '../helpers/process-spool-rig.ts';

// The operator commands against a real redis-server, with dead letters made the way production
// makes them: a gateway whose DIS refuses records for good, through the async path.

const SPOOL = { block_ms: 200, retry_initial_ms: 50, retry_max_ms: 500, claim_idle_ms: 60_000 };

const Accepted = z.object({ receipt: z.string().min(1) });
const ReceiptBody = z.object({
  status: z.string(),
  records: z.array(z.object({ status: z.string(), error_code: z.string().optional() }).loose()),
});
const Entry = z.object({
  id: z.string(),
  stream: z.string(),
  failed_at: z.string(),
  error_code: z.string(),
  error_message: z.string(),
  entry_id: z.string(),
  receipt: z.string().nullable(),
  index: z.number().nullable(),
  data_bytes: z.number(),
});
const Listing = z.object({
  streams: z.array(z.object({ stream: z.string(), count: z.number(), entries: z.array(Entry) })),
});
const Shown = Entry.extend({
  partition_key: z.string().nullable(),
  data_preview_base64: z.string(),
  data_preview_truncated: z.boolean(),
});
const Consumers = z.object({
  streams: z.array(
    z.object({
      stream: z.string(),
      consumers: z.array(z.object({ name: z.string(), pending: z.number(), idle_ms: z.number() })),
    }),
  ),
});

async function cli(rig: SpoolRig, ...args: string[]): Promise<RunResult> {
  return runMain({ env: rig.env, args, timeoutMs: 20_000 });
}

function receiptOf(answer: HttpAnswer): string {
  assert.equal(answer.status, 202, answer.text);
  return Accepted.parse(JSON.parse(answer.text)).receipt;
}

async function receipt(rig: SpoolRig, url: string, id: string) {
  const answer = await rig.getReceipt(url, rig.operatorToken, id);
  assert.equal(answer.status, 200, answer.text);
  return ReceiptBody.parse(JSON.parse(answer.text));
}

async function listing(rig: SpoolRig, ...args: string[]) {
  const result = await cli(rig, 'dead-letters', 'list', '--json', ...args);
  assert.equal(result.code, 0, result.stderr);
  const [stream, ...others] = Listing.parse(JSON.parse(result.stdout)).streams;
  assert.ok(stream !== undefined);
  assert.deepEqual(others, []);
  return stream;
}

function texts(rig: SpoolRig): string[] {
  return [...rig.stored()].sort();
}

describe('dis-gateway dead-letters and spool-consumers', () => {
  it('lists and shows the records DIS refused for good; a replay sends one to DIS once, even when repeated, and drop deletes', async (t) => {
    const rig = await startSpoolRig(t, { partitions: 1, spool: SPOOL });
    const { faults } = rig.emulator;
    faults.failRecords({
      share: 1,
      errorCode: 'DIS.4302',
      errorMessage: 'Partition does not exist.',
    });
    const gateway = await rig.spawn();
    const run = randomBytes(4).toString('hex');
    const first = [0, 1, 2].map((i) => ({ rec: `${run}-a${i}` }));
    const second = [0, 1].map((i) => ({ rec: `${run}-b${i}` }));
    const r1 = receiptOf(await rig.postRecords(gateway.url, first));
    const r2 = receiptOf(await rig.postRecords(gateway.url, second));
    await waitFor('five dead letters', async () =>
      (await rig.redis.xlen(rig.deadLetterKey)) === 5 ? true : undefined,
    );
    assert.equal((await receipt(rig, gateway.url, r1)).status, 'dead_lettered');

    // list: text lines and JSON, bounded
    const text = await cli(rig, 'dead-letters', 'list');
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.trimEnd().split('\n');
    assert.equal(lines[0], `stream ${rig.disStream}: 5 dead letter(s)`);
    assert.equal(lines.length, 6);
    assert.match(
      lines[1] ?? '',
      new RegExp(`DIS\\.4302  receipt=${r1}#0  bytes=\\d+  "Partition does not exist\\."$`),
    );
    const all = await listing(rig);
    assert.equal(all.stream, rig.disStream);
    assert.equal(all.count, 5);
    assert.deepEqual(
      all.entries.map((e) => [e.receipt, e.index, e.error_code]),
      [
        [r1, 0, 'DIS.4302'],
        [r1, 1, 'DIS.4302'],
        [r1, 2, 'DIS.4302'],
        [r2, 0, 'DIS.4302'],
        [r2, 1, 'DIS.4302'],
      ],
    );
    const limited = await listing(rig, '--limit', '2', '--stream', 'clicks');
    assert.deepEqual(
      [limited.count, limited.entries.map((e) => e.id)],
      [5, all.entries.slice(0, 2).map((e) => e.id)],
    );

    // show: one entry in full, with a preview of its bytes
    const [a0, a1] = all.entries;
    assert.ok(a0 !== undefined && a1 !== undefined);
    const shownRun = await cli(rig, 'dead-letters', 'show', a0.id, '--json');
    assert.equal(shownRun.code, 0, shownRun.stderr);
    const shown = Shown.parse(JSON.parse(shownRun.stdout));
    assert.equal(
      Buffer.from(shown.data_preview_base64, 'base64').toString('utf8'),
      JSON.stringify(first[0]),
    );
    assert.equal(shown.data_bytes, Buffer.byteLength(JSON.stringify(first[0])));
    assert.equal(shown.data_preview_truncated, false);
    assert.equal(shown.error_message, 'Partition does not exist.');
    const shownText = await cli(rig, 'dead-letters', 'show', a0.id);
    assert.equal(shownText.code, 0, shownText.stderr);
    const shownLines = shownText.stdout.split('\n');
    for (const line of [
      `id: ${a0.id}`,
      `stream: ${rig.disStream}`,
      'error_code: DIS.4302',
      `receipt: ${r1}`,
      'index: 0',
      'partition_key: -',
      `data_preview_base64: ${shown.data_preview_base64}`,
    ])
      assert.ok(shownLines.includes(line), `${line} in\n${shownText.stdout}`);

    // DIS takes records again: a replay goes through the forwarder, twice is still once
    faults.clear();
    const replayed = await cli(rig, 'dead-letters', 'replay', a0.id);
    assert.equal(replayed.code, 0, replayed.stderr);
    assert.match(
      replayed.stdout,
      new RegExp(`^replayed ${a0.id} \\(stream ${rig.disStream}\\) as spool entry \\d+-\\d+\\n$`),
    );
    const again = await cli(rig, 'dead-letters', 'replay', a0.id);
    assert.equal(again.code, 1);
    assert.equal(
      again.stderr,
      `dis-gateway dead-letters: no dead letter ${a0.id} in ${rig.disStream} (replayed or dropped already?)\n`,
    );
    await waitFor('the replayed record in DIS', () => (texts(rig).length === 1 ? true : undefined));
    await waitFor('its receipt record written', async () =>
      (await receipt(rig, gateway.url, r1)).records[0]?.status === 'written' ? true : undefined,
    );
    assert.deepEqual(
      (await receipt(rig, gateway.url, r1)).records.map((r) => r.status),
      ['written', 'dead_lettered', 'dead_lettered'],
    );

    // drop one by id; --all wants --yes
    const dropped = await cli(rig, 'dead-letters', 'drop', a1.id);
    assert.equal(dropped.code, 0, dropped.stderr);
    assert.equal(dropped.stdout, `dropped ${a1.id} (stream ${rig.disStream})\n`);
    assert.equal((await cli(rig, 'dead-letters', 'drop', a1.id)).code, 1);
    const unconfirmed = await cli(rig, 'dead-letters', 'drop', '--all');
    assert.equal(unconfirmed.code, 2);
    assert.match(
      unconfirmed.stderr,
      /^dis-gateway dead-letters: drop --all deletes every dead letter .*: add --yes\n/,
    );
    assert.equal((await listing(rig)).count, 3);

    // replay --all: the rest, each once; a second run finds nothing
    const rest = await cli(rig, 'dead-letters', 'replay', '--all', '--json');
    assert.equal(rest.code, 0, rest.stderr);
    assert.deepEqual(JSON.parse(rest.stdout), {
      streams: [{ stream: rig.disStream, replayed: 3, damaged: 0, spool_full: false }],
    });
    const none = await cli(rig, 'dead-letters', 'replay', '--all');
    assert.equal(none.stdout, `stream ${rig.disStream}: replayed 0\n`);
    await waitFor('every replayed record in DIS', () =>
      texts(rig).length === 4 ? true : undefined,
    );
    await waitFor('receipts settled', async () => {
      const [one, two] = await Promise.all([
        receipt(rig, gateway.url, r1),
        receipt(rig, gateway.url, r2),
      ]);
      return one.status === 'partial' && two.status === 'written' ? true : undefined;
    });
    // a1 was dropped: its receipt record keeps saying dead_lettered
    assert.deepEqual(
      (await receipt(rig, gateway.url, r1)).records.map((r) => r.status),
      ['written', 'dead_lettered', 'written'],
    );
    assert.deepEqual(
      texts(rig),
      [first[0], first[2], second[0], second[1]].map((d) => JSON.stringify(d)).sort(),
    );
    assert.equal(await rig.redis.xlen(rig.spoolKey), 0);
    assert.equal((await listing(rig)).count, 0);

    // drop --all --yes
    faults.failRecords({
      share: 1,
      errorCode: 'DIS.4302',
      errorMessage: 'Partition does not exist.',
    });
    receiptOf(await rig.postRecords(gateway.url, [{ rec: `${run}-c0` }, { rec: `${run}-c1` }]));
    await waitFor('two new dead letters', async () =>
      (await rig.redis.xlen(rig.deadLetterKey)) === 2 ? true : undefined,
    );
    const cleared = await cli(rig, 'dead-letters', 'drop', '--all', '--yes');
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.equal(cleared.stdout, `stream ${rig.disStream}: dropped 2\n`);
    assert.equal((await listing(rig)).count, 0);
    faults.clear();
    await gateway.stop();
  });

  it('answers mistakes with one line and exit code 1 (not found, unknown stream) or 2 (usage)', async (t) => {
    const rig = await startSpoolRig(t, { partitions: 1, spool: SPOOL });
    const missing = await cli(rig, 'dead-letters', 'show', '1-0');
    assert.deepEqual(
      [missing.code, missing.stdout, missing.stderr],
      [
        1,
        '',
        `dis-gateway dead-letters: no dead letter 1-0 in ${rig.disStream} (replayed or dropped already?)\n`,
      ],
    );
    const unknown = await cli(rig, 'dead-letters', 'list', '--stream', 'nope');
    assert.equal(unknown.code, 1);
    assert.match(
      unknown.stderr,
      /^dis-gateway dead-letters: no stream "nope" in the configuration \(configured: clicks \(DIS [^)]+\)\)\n$/,
    );
    for (const args of [
      ['dead-letters'],
      ['dead-letters', 'purge'],
      ['dead-letters', 'replay'],
      ['dead-letters', 'replay', '1-0', '--all'],
      ['dead-letters', 'list', '--limit', '0'],
      ['spool-consumers', 'prune'],
      ['spool-consumers', 'list', '--force'],
    ]) {
      const result = await cli(rig, ...args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /^dis-gateway (dead-letters|spool-consumers): .+\n\nUsage: /);
    }
    const noRedis = await runMain({
      env: { ...rig.env, REDIS_URL: 'redis://127.0.0.1:1' },
      args: ['dead-letters', 'list'],
      timeoutMs: 20_000,
    });
    assert.equal(noRedis.code, 1);
    assert.match(noRedis.stderr, /^dis-gateway dead-letters: cannot reach Redis: .+\n$/);
  });

  it('a crashed gateway stays in the forwarder group: prune deletes it once it holds nothing, and --force puts what it holds back into the spool', async (t) => {
    const rig = await startSpoolRig(t, { partitions: 1, spool: SPOOL });
    const { faults } = rig.emulator;
    // DIS is down: the first gateway reads the records and holds them pending when it is killed.
    faults.failNext({ count: 1_000_000, operation: 'PutRecords', status: 503 });
    const crashed = await rig.spawn();
    const run = randomBytes(4).toString('hex');
    const data = [0, 1, 2].map((i) => ({ rec: `${run}-${i}` }));
    const id = receiptOf(await rig.postRecords(crashed.url, data));
    await waitFor('the records pending', async () =>
      (await rig.pending()) === 3 ? true : undefined,
    );
    await crashed.stop('SIGKILL');

    const listed = await cli(rig, 'spool-consumers', 'list', '--json');
    assert.equal(listed.code, 0, listed.stderr);
    const [stream] = Consumers.parse(JSON.parse(listed.stdout)).streams;
    assert.equal(stream?.consumers.length, 1);
    const [dead] = stream.consumers;
    assert.ok(dead !== undefined);
    assert.equal(dead.pending, 3);
    const text = await cli(rig, 'spool-consumers', 'list');
    assert.match(
      text.stdout,
      new RegExp(
        `^stream ${rig.disStream}: 1 consumer\\(s\\)\\n  ${dead.name}  pending=3  idle_ms=\\d+\\n$`,
      ),
    );

    await sleep(50);
    // Idle, but holding entries: kept without --force.
    const kept = await cli(rig, 'spool-consumers', 'prune', '--idle-ms', '20');
    assert.equal(kept.code, 0, kept.stderr);
    assert.match(
      kept.stdout,
      new RegExp(`^kept ${dead.name} \\(stream ${rig.disStream}\\): holds 3 pending entries`),
    );
    // Not idle that long: left alone.
    const young = await cli(rig, 'spool-consumers', 'prune', '--idle-ms', '3600000');
    assert.equal(young.stdout, 'no consumer idle for 3600000 ms or more\n');

    const forced = await cli(rig, 'spool-consumers', 'prune', '--idle-ms', '20', '--force');
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(
      forced.stdout,
      `deleted ${dead.name} (stream ${rig.disStream}), its 3 pending entries put back into the spool\n`,
    );
    assert.equal(await rig.pending(), 0);
    assert.equal(await rig.redis.xlen(rig.spoolKey), 3);

    // A new gateway (DIS up) reads them as new entries and settles the same receipt.
    faults.clear();
    const next = await rig.spawn();
    await waitFor('the records in DIS', () => (rig.stored().length === 3 ? true : undefined));
    assert.deepEqual(texts(rig), data.map((d) => JSON.stringify(d)).sort());
    await waitFor('the receipt written', async () =>
      (await receipt(rig, next.url, id)).status === 'written' ? true : undefined,
    );

    // The live one holds nothing: prune of a crashed consumer with nothing pending needs no --force.
    await next.stop('SIGKILL');
    await sleep(50);
    const [left] = Consumers.parse(
      JSON.parse((await cli(rig, 'spool-consumers', 'list', '--json')).stdout),
    ).streams;
    const [gone] = left?.consumers ?? [];
    assert.ok(gone !== undefined);
    assert.equal(gone.pending, 0);
    const pruned = await cli(
      rig,
      'spool-consumers',
      'prune',
      '--idle-ms',
      '20',
      '--stream',
      'clicks',
      '--json',
    );
    assert.deepEqual(JSON.parse(pruned.stdout), {
      pruned: [
        { stream: rig.disStream, name: gone.name, result: 'deleted', pending: 0, requeued: 0 },
      ],
    });
    assert.equal(
      (await cli(rig, 'spool-consumers', 'list')).stdout,
      `stream ${rig.disStream}: 0 consumer(s)\n`,
    );
  });
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { runDeadLettersCommand } from '../../src/cli/dead-letters-command.ts';
import type { SpoolAdminIo } from '../../src/cli/spool-admin.ts';
import { runSpoolConsumersCommand } from '../../src/cli/spool-consumers-command.ts';
import { openSpoolAdmin } from '../../src/compose-spool-admin.ts';
import { DEV_CREDENTIALS } from '../../src/emulator/emulator.ts';
import { createForwarder } from '../../src/spool/forwarder.ts';
import { DEFAULT_SPOOL_KEY_PREFIX } from '../../src/spool/keys.ts';
import {
  seededRandom,
  startClientAndEmulator,
  uniqueStreamName,
  type ClientAndEmulator,
} from '../helpers/dis-fixtures.ts';
import { useTestRedis } from '../helpers/redis-fixture.ts';
import { testReplicaAcks } from '../helpers/redis-server.ts';
import { spoolUnderTest } from '../helpers/spool-fixture.ts';
import { waitFor } from '../helpers/wait.ts';

// The commands as main.ts runs them (loadConfig, the gateway's own Redis connection) against a
// Redis Cluster: every key a command touches carries the spool stream's hash tag.

const Listing = z.object({
  streams: z.array(
    z.object({
      count: z.number(),
      entries: z.array(z.object({ id: z.string(), receipt: z.string().nullable() })),
    }),
  ),
});

const CONFIG_PATH = '/etc/dis-gateway/gateway.json';

describe('dead-letters and spool-consumers on a Redis Cluster', () => {
  const db = useTestRedis({ cluster: true });
  let dis: ClientAndEmulator;
  before(async () => {
    dis = await startClientAndEmulator({ random: seededRandom(5) });
  });
  after(() => dis.close());

  const ioFor = (disStream: string) => {
    const credentials = DEV_CREDENTIALS[0];
    assert.ok(credentials !== undefined);
    const out: string[] = [];
    const err: string[] = [];
    const config = JSON.stringify({
      redis: { nodes: [{ host: '127.0.0.1', port: db.server.port }] },
    });
    const io: SpoolAdminIo = {
      env: {
        GATEWAY_CONFIG: CONFIG_PATH,
        GATEWAY_STREAMS: `clicks=${disStream}:1`,
        DIS_ENDPOINT: dis.emulator.url,
        DIS_PROJECT_ID: dis.emulator.projectId,
        DIS_REGION: 'cn-north-4',
        DIS_AK: credentials.ak,
        DIS_SK: credentials.sk,
      },
      readFile: (path) => {
        if (path === CONFIG_PATH) return config;
        throw new Error(`ENOENT: ${path}`);
      },
      write: (line) => out.push(line),
      warn: (line) => err.push(line),
      openSpool: openSpoolAdmin,
    };
    const take = () => ({ out: out.splice(0).join('\n'), err: err.splice(0).join('\n') });
    const run = async (
      command: typeof runDeadLettersCommand,
      args: readonly string[],
    ): Promise<{ code: number; out: string; err: string }> => {
      const code = await command(args, io);
      return { code, ...take() };
    };
    return {
      deadLetters: (...args: string[]) => run(runDeadLettersCommand, args),
      consumers: (...args: string[]) => run(runSpoolConsumersCommand, args),
    };
  };

  it('lists, replays (once) and drops dead letters a forwarder made, and lists its consumer', async () => {
    const disStream = uniqueStreamName('cli-cluster');
    await dis.management.createStream({ stream_name: disStream, partition_count: 1 });
    const { spool } = spoolUnderTest(db.redis, { keyPrefix: DEFAULT_SPOOL_KEY_PREFIX });
    const consumer = `c-${randomUUID()}`;
    const forwarder = createForwarder({
      redis: db.redis,
      acks: testReplicaAcks(db.redis),
      client: dis.client,
      streams: [{ disStream }],
      consumer,
      batchSize: 50,
      blockMs: 50,
      claimIdleMs: 60_000,
      retryInitialMs: 10,
      retryMaxMs: 100,
      putTimeoutMs: 500,
      deadLetterMaxEntries: 1000,
      receiptTtlS: 3600,
      now: Date.now,
      random: seededRandom(3),
    });
    dis.emulator.faults.failRecords({ share: 1, errorCode: 'DIS.4302', errorMessage: 'No.' });
    forwarder.start();
    try {
      const records = ['one', 'two'].map((d) => ({ data: Buffer.from(d) }));
      const { receiptId } = await spool.append({
        disStream,
        logicalStream: 'clicks',
        owner: 'principal:t',
        records,
      });
      const dead = await waitFor('two dead letters', async () => {
        const r = await spool.receipt(receiptId, { owner: 'principal:t', operator: false });
        return r?.status === 'dead_lettered' ? r : undefined;
      });
      assert.equal(dead.records.length, 2);
      const cli = ioFor(disStream);

      const listed = await cli.deadLetters('list', '--json');
      assert.equal(listed.code, 0, listed.err);
      const [stream] = Listing.parse(JSON.parse(listed.out)).streams;
      assert.equal(stream?.count, 2);
      const [first, second] = stream.entries;
      assert.ok(first !== undefined && second !== undefined);
      assert.deepEqual([first.receipt, second.receipt], [receiptId, receiptId]);

      dis.emulator.faults.clear();
      const replayed = await cli.deadLetters('replay', first.id);
      assert.equal(replayed.code, 0, replayed.err);
      assert.match(replayed.out, /^replayed .+ as spool entry \d+-\d+$/);
      const again = await cli.deadLetters('replay', first.id);
      assert.equal(again.code, 1);
      assert.match(again.err, /no dead letter .* \(replayed or dropped already\?\)$/);
      const written = await waitFor('the replayed record written', async () => {
        const r = await spool.receipt(receiptId, { owner: 'principal:t', operator: false });
        return r?.status === 'partial' ? r : undefined;
      });
      assert.deepEqual(
        written.records.map((r) => r.status),
        ['written', 'dead_lettered'],
      );
      const stored = dis.emulator.state
        .records(disStream)
        .flatMap((p) => p.records.map((r) => r.data.toString('utf8')));
      assert.deepEqual(stored, ['one']);

      const dropped = await cli.deadLetters('drop', '--all', '--yes');
      assert.equal(dropped.code, 0, dropped.err);
      assert.equal(dropped.out, `stream ${disStream}: dropped 1`);

      const consumers = await cli.consumers('list');
      assert.equal(consumers.code, 0, consumers.err);
      assert.match(
        consumers.out,
        new RegExp(
          `^stream ${disStream}: 1 consumer\\(s\\)\\n  ${consumer}  pending=0  idle_ms=\\d+$`,
        ),
      );
      const pruned = await cli.consumers('prune', '--idle-ms', '3600000');
      assert.deepEqual(pruned, {
        code: 0,
        out: 'no consumer idle for 3600000 ms or more',
        err: '',
      });
    } finally {
      await forwarder.stop();
    }
  });
});

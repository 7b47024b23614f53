import { parseArgs } from 'node:util';
import {
  EXIT_OK,
  messageOf,
  runSpoolCommand,
  type ParsedFlags,
  type ConsumerPort,
  type SpoolAdminIo,
} from './spool-admin.ts';

// `dis-gateway spool-consumers`: the members of each spool stream's forwarder group. A gateway that
// stops cleanly leaves the group; one that crashed stays in it under its name (host-pid-random).

export const SPOOL_CONSUMERS_USAGE = `Usage: dis-gateway spool-consumers <action> [options]

Actions:
  list                  the forwarder group's consumers: pending entries and idle time
  prune --idle-ms <n>   delete consumers idle at least <n> ms that hold no pending entries

Options:
  --stream <name>   only this stream (logical name or DIS stream); default: every configured one
  --idle-ms <n>     prune: the idle time, in ms, that marks a consumer as gone (a live forwarder
                    reads at least every spool.block_ms; e.g. 3600000)
  --force           prune: also consumers that hold pending entries; those entries are first put
                    back into the spool as new entries (possible duplicates, like a takeover).
                    Not needed while a gateway runs: after spool.claim_idle_ms its forwarder takes
                    a dead consumer's entries over and the consumer holds none
  --json            one JSON document on stdout instead of text lines
  -h, --help        this text

Configuration and Redis as for the gateway (environment, GATEWAY_CONFIG).
Exit codes: 0 done, 1 error (one line on stderr), 2 usage.`;

interface Flags {
  readonly action: 'list' | 'prune';
  readonly stream: string | undefined;
  readonly idleMs: number;
  readonly force: boolean;
  readonly json: boolean;
}

type Parsed = ParsedFlags<Flags>;

function parseFlags(argv: readonly string[]): Parsed {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        stream: { type: 'string' },
        'idle-ms': { type: 'string' },
        force: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    return { ok: false, error: messageOf(error) };
  }
  const { values, positionals } = parsed;
  if (values.help) return { ok: 'help' };
  const [action, ...extra] = positionals;
  if (action !== 'list' && action !== 'prune')
    return {
      ok: false,
      error: action === undefined ? 'an action is needed' : `unknown action "${action}"`,
    };
  if (extra.length > 0) return { ok: false, error: `unexpected argument "${extra.join(' ')}"` };
  const idleText = values['idle-ms'];
  if (action === 'list') {
    if (idleText !== undefined || values.force)
      return { ok: false, error: '--idle-ms and --force are for prune' };
    return {
      ok: true,
      flags: { action, stream: values.stream, idleMs: 0, force: false, json: values.json },
    };
  }
  if (idleText === undefined) return { ok: false, error: 'prune needs --idle-ms' };
  const idleMs = /^\d{1,12}$/.test(idleText) ? Number(idleText) : Number.NaN;
  if (!(idleMs >= 1))
    return {
      ok: false,
      error: `--idle-ms must be a whole number of milliseconds, at least 1; got ${JSON.stringify(idleText)}`,
    };
  return {
    ok: true,
    flags: { action, stream: values.stream, idleMs, force: values.force, json: values.json },
  };
}

async function run(
  flags: Flags,
  port: ConsumerPort,
  streams: readonly string[],
  write: (line: string) => void,
): Promise<number> {
  const listed = await Promise.all(
    streams.map(async (stream) => ({ stream, consumers: await port.list(stream) })),
  );
  if (flags.action === 'list') {
    if (flags.json) {
      write(
        JSON.stringify({
          streams: listed.map((s) => ({
            stream: s.stream,
            consumers: s.consumers.map((c) => ({
              name: c.name,
              pending: c.pending,
              idle_ms: c.idleMs,
            })),
          })),
        }),
      );
    } else {
      for (const s of listed) {
        write(`stream ${s.stream}: ${s.consumers.length} consumer(s)`);
        for (const c of s.consumers)
          write(`  ${c.name}  pending=${c.pending}  idle_ms=${c.idleMs}`);
      }
    }
    return EXIT_OK;
  }

  type Row = { stream: string; name: string; result: string; pending: number; requeued: number };
  const rows: Row[] = [];
  for (const { stream, consumers } of listed) {
    for (const c of consumers) {
      if (c.idleMs < flags.idleMs) continue;
      // The script checks idle time and pending entries again: the listing may be stale by now.
      const outcome = await port.prune(stream, c.name, {
        minIdleMs: flags.idleMs,
        force: flags.force,
      });
      const row = { stream, name: c.name, pending: c.pending, requeued: 0 };
      if (outcome.status === 'deleted')
        rows.push({ ...row, result: 'deleted', requeued: outcome.requeued });
      else if (outcome.status === 'holding')
        rows.push({ ...row, result: 'kept_pending', pending: outcome.pending });
      else if (outcome.status === 'active') rows.push({ ...row, result: 'kept_active' });
      // 'missing': gone meanwhile (left on its own, or another prune): nothing to say.
    }
  }
  if (flags.json) {
    write(
      JSON.stringify({
        pruned: rows.map((r) => ({
          stream: r.stream,
          name: r.name,
          result: r.result,
          pending: r.pending,
          requeued: r.requeued,
        })),
      }),
    );
    return EXIT_OK;
  }
  for (const r of rows) {
    if (r.result === 'deleted')
      write(
        `deleted ${r.name} (stream ${r.stream})` +
          (r.requeued > 0 ? `, its ${r.requeued} pending entries put back into the spool` : ''),
      );
    else if (r.result === 'kept_pending')
      write(
        `kept ${r.name} (stream ${r.stream}): holds ${r.pending} pending entries; a running forwarder takes them over after spool.claim_idle_ms, --force puts them back into the spool`,
      );
    else write(`kept ${r.name} (stream ${r.stream}): it read again since it was listed`);
  }
  if (rows.length === 0) write(`no consumer idle for ${flags.idleMs} ms or more`);
  return EXIT_OK;
}

/** `spool-consumers list|prune`. Returns the exit code. */
export async function runSpoolConsumersCommand(
  argv: readonly string[],
  io: SpoolAdminIo,
): Promise<number> {
  return runSpoolCommand(
    'spool-consumers',
    SPOOL_CONSUMERS_USAGE,
    parseFlags(argv),
    io,
    (flags, admin, streams) => run(flags, admin.consumers, streams, io.write),
  );
}

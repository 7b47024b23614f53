import { parseArgs } from 'node:util';
import {
  CommandError,
  EXIT_ERROR,
  EXIT_OK,
  messageOf,
  runSpoolCommand,
  type ParsedFlags,
  type DeadLetterPort,
  type DeadLetterView,
  type SpoolAdminIo,
} from './spool-admin.ts';

// `dis-gateway dead-letters`: the records DIS refused for good, one dead letter per record, in the
// dead-letter stream of their DIS stream (`gw:dlq:{…}`).

export const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 10_000;
/** Bytes of record data `show` prints (base64): enough to recognise a record, not a dump. */
const PREVIEW_BYTES = 64;
const PAGE = 100;

export const DEAD_LETTERS_USAGE = `Usage: dis-gateway dead-letters <action> [options]

Actions:
  list                     count and the oldest dead letters of each stream
  show <id>                one dead letter: reason, receipt, routing, data size and a preview
  replay <id> | --all      move back into the spool (one atomic step): the forwarder sends it
                           to DIS again and settles its receipt record
  drop <id> | --all --yes  delete (no way back)

Options:
  --stream <name>   only this stream (logical name or DIS stream); default: every configured one
  --limit <n>       list: entries per stream, 1..${MAX_LIMIT} (default ${DEFAULT_LIMIT})
  --all             replay / drop: every dead letter there when the command starts
  --yes             drop --all: confirms it
  --json            one JSON document on stdout instead of text lines
  -h, --help        this text

Configuration and Redis as for the gateway (environment, GATEWAY_CONFIG).
Exit codes: 0 done, 1 error (one line on stderr), 2 usage.`;

const ACTIONS = ['list', 'show', 'replay', 'drop'] as const;
type Action = (typeof ACTIONS)[number];

interface Flags {
  readonly action: Action;
  readonly id: string | undefined;
  readonly stream: string | undefined;
  readonly limit: number;
  readonly all: boolean;
  readonly yes: boolean;
  readonly json: boolean;
}

type Parsed = ParsedFlags<Flags>;

function isAction(value: string | undefined): value is Action {
  return ACTIONS.some((a) => a === value);
}

function parseFlags(argv: readonly string[]): Parsed {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        stream: { type: 'string' },
        limit: { type: 'string' },
        all: { type: 'boolean', default: false },
        yes: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    return { ok: false, error: messageOf(error) };
  }
  const { values, positionals } = parsed;
  if (values.help) return { ok: 'help' };
  const [action, id, ...extra] = positionals;
  if (!isAction(action))
    return {
      ok: false,
      error: action === undefined ? 'an action is needed' : `unknown action "${action}"`,
    };
  if (extra.length > 0) return { ok: false, error: `unexpected argument "${extra.join(' ')}"` };
  const limitText = values.limit ?? String(DEFAULT_LIMIT);
  const limit = /^\d{1,5}$/.test(limitText) ? Number(limitText) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_LIMIT))
    return {
      ok: false,
      error: `--limit must be 1..${MAX_LIMIT}; got ${JSON.stringify(limitText)}`,
    };
  if (values.limit !== undefined && action !== 'list')
    return { ok: false, error: '--limit is for list' };
  const takesId = action !== 'list';
  if (!takesId && id !== undefined) return { ok: false, error: 'list takes no id' };
  if (values.all && action !== 'replay' && action !== 'drop')
    return { ok: false, error: '--all is for replay and drop' };
  if (takesId && action !== 'show' && values.all === (id !== undefined))
    return { ok: false, error: `${action} takes an id or --all (one of them)` };
  if (action === 'show' && id === undefined) return { ok: false, error: 'show takes an id' };
  if (values.yes && !(action === 'drop' && values.all))
    return { ok: false, error: '--yes is for drop --all' };
  if (action === 'drop' && values.all && !values.yes)
    return {
      ok: false,
      error: 'drop --all deletes every dead letter of the stream(s) for good: add --yes',
    };
  return {
    ok: true,
    flags: {
      action,
      id,
      stream: values.stream,
      limit,
      all: values.all,
      yes: values.yes,
      json: values.json,
    },
  };
}

function toJson(letter: DeadLetterView) {
  return {
    id: letter.id,
    stream: letter.disStream,
    failed_at: letter.failedAt,
    error_code: letter.errorCode,
    error_message: letter.errorMessage,
    entry_id: letter.entryId,
    receipt: letter.receiptId ?? null,
    index: letter.index ?? null,
    data_bytes: letter.dataBytes,
  };
}

function toLine(letter: DeadLetterView): string {
  const receipt =
    letter.receiptId === undefined
      ? 'receipt=- (damaged entry)'
      : `receipt=${letter.receiptId}#${String(letter.index)}`;
  return `${letter.id}  ${letter.failedAt}  ${letter.errorCode}  ${receipt}  bytes=${letter.dataBytes}  ${JSON.stringify(letter.errorMessage)}`;
}

function detail(letter: DeadLetterView) {
  const preview = letter.data.subarray(0, PREVIEW_BYTES);
  return {
    ...toJson(letter),
    partition_key: letter.partitionKey ?? null,
    partition_id: letter.partitionId ?? null,
    explicit_hash_key: letter.explicitHashKey ?? null,
    data_preview_base64: preview.toString('base64'),
    data_preview_truncated: preview.length < letter.dataBytes,
  };
}

/** The one stream that holds `id`: `--stream`'s, or the only configured one that has it. */
async function locate(
  port: DeadLetterPort,
  streams: readonly string[],
  id: string,
): Promise<DeadLetterView> {
  const found = (await Promise.all(streams.map((s) => port.get(s, id)))).filter(
    (letter) => letter !== undefined,
  );
  const [letter] = found;
  if (letter === undefined)
    throw new CommandError(
      `no dead letter ${id} in ${streams.join(', ')} (replayed or dropped already?)`,
    );
  if (found.length > 1)
    throw new CommandError(
      `${id} is a dead letter of ${found.map((l) => l.disStream).join(' and ')}: pass --stream`,
    );
  return letter;
}

interface Tally {
  readonly stream: string;
  replayed: number;
  damaged: number;
  full: boolean;
}

/** Replays the dead letters there now (up to the newest id at the start), oldest first. */
async function replayAll(port: DeadLetterPort, stream: string): Promise<Tally> {
  const tally: Tally = { stream, replayed: 0, damaged: 0, full: false };
  const through = await port.lastId(stream);
  if (through === undefined) return tally;
  let after: string | undefined;
  for (;;) {
    const page = await port.list(stream, PAGE, {
      through,
      ...(after === undefined ? {} : { after }),
    });
    for (const letter of page) {
      const outcome = await port.replay(stream, letter.id);
      if (outcome.status === 'replayed') tally.replayed += 1;
      else if (outcome.status === 'damaged') tally.damaged += 1;
      else if (outcome.status === 'full') {
        tally.full = true;
        return tally;
      }
      after = letter.id;
    }
    if (page.length < PAGE) return tally;
  }
}

async function run(
  flags: Flags,
  port: DeadLetterPort,
  streams: readonly string[],
  write: (line: string) => void,
): Promise<number> {
  const out = (json: unknown, lines: readonly string[]): void => {
    if (flags.json) write(JSON.stringify(json));
    else for (const line of lines) write(line);
  };
  switch (flags.action) {
    case 'list': {
      const listed = await Promise.all(
        streams.map(async (stream) => {
          const [count, entries] = await Promise.all([
            port.count(stream),
            port.list(stream, flags.limit),
          ]);
          return { stream, count, entries };
        }),
      );
      out(
        {
          streams: listed.map((s) => ({
            stream: s.stream,
            count: s.count,
            entries: s.entries.map(toJson),
          })),
        },
        listed.flatMap((s) => [
          `stream ${s.stream}: ${s.count} dead letter(s)${s.count > s.entries.length ? `, the oldest ${s.entries.length} shown (--limit)` : ''}`,
          ...s.entries.map((letter) => `  ${toLine(letter)}`),
        ]),
      );
      return EXIT_OK;
    }
    case 'show': {
      const letter = await locate(port, streams, flags.id ?? '');
      const shown = detail(letter);
      out(
        shown,
        Object.entries(shown).map(([name, value]) => `${name}: ${String(value ?? '-')}`),
      );
      return EXIT_OK;
    }
    case 'replay': {
      if (flags.id !== undefined) {
        const letter = await locate(port, streams, flags.id);
        const outcome = await port.replay(letter.disStream, letter.id);
        if (outcome.status === 'replayed') {
          out(
            { replayed: letter.id, stream: letter.disStream, spool_entry: outcome.spoolEntryId },
            [
              `replayed ${letter.id} (stream ${letter.disStream}) as spool entry ${outcome.spoolEntryId}`,
            ],
          );
          return EXIT_OK;
        }
        throw new CommandError(
          outcome.status === 'full'
            ? `the spool of ${letter.disStream} is full (spool.max_entries); nothing was moved, try again later`
            : outcome.status === 'damaged'
              ? `${letter.id} lacks its data, receipt or index and cannot be replayed (drop it)`
              : `no dead letter ${letter.id} in ${letter.disStream} (replayed or dropped already?)`,
        );
      }
      const tallies: Tally[] = [];
      for (const stream of streams) tallies.push(await replayAll(port, stream));
      out(
        {
          streams: tallies.map((t) => ({
            stream: t.stream,
            replayed: t.replayed,
            damaged: t.damaged,
            spool_full: t.full,
          })),
        },
        tallies.map(
          (t) =>
            `stream ${t.stream}: replayed ${t.replayed}` +
            (t.damaged > 0 ? `, ${t.damaged} damaged left in place (drop them)` : '') +
            (t.full ? ', stopped: the spool is full (spool.max_entries), run again later' : ''),
        ),
      );
      return tallies.some((t) => t.full || t.damaged > 0) ? EXIT_ERROR : EXIT_OK;
    }
    case 'drop': {
      if (flags.id !== undefined) {
        const letter = await locate(port, streams, flags.id);
        if (!(await port.drop(letter.disStream, letter.id)))
          throw new CommandError(`no dead letter ${letter.id} in ${letter.disStream}`);
        out({ dropped: letter.id, stream: letter.disStream }, [
          `dropped ${letter.id} (stream ${letter.disStream})`,
        ]);
        return EXIT_OK;
      }
      const dropped = await Promise.all(
        streams.map(async (stream) => {
          const through = await port.lastId(stream);
          return {
            stream,
            dropped: through === undefined ? 0 : await port.dropThrough(stream, through),
          };
        }),
      );
      out(
        { streams: dropped },
        dropped.map((d) => `stream ${d.stream}: dropped ${d.dropped}`),
      );
      return EXIT_OK;
    }
  }
}

/** `dead-letters list|show|replay|drop`. Returns the exit code. */
export async function runDeadLettersCommand(
  argv: readonly string[],
  io: SpoolAdminIo,
): Promise<number> {
  return runSpoolCommand(
    'dead-letters',
    DEAD_LETTERS_USAGE,
    parseFlags(argv),
    io,
    (flags, admin, streams) => run(flags, admin.deadLetters, streams, io.write),
  );
}

import { z } from 'zod';
import type { RedisClient } from '../redis/connect.ts';
import type { ReplicaAcks } from '../redis/replication.ts';
import { decodeEntry } from './entry.ts';
import { createSpoolKeys } from './keys.ts';

// The operator's side of the dead-letter stream: read it, put entries back into the spool for the
// forwarder, delete them. A dead letter is the spool entry's own fields (data, routing, receipt,
// index) followed by the four the settlement appended (settle.ts): entry_id, error_code,
// error_message, failed_at.

const TAIL = ['entry_id', 'error_code', 'error_message', 'failed_at'] as const;

/** One dead letter (one record), as listed: no record bytes. */
export interface DeadLetterSummary {
  /** The dead-letter stream's entry id: what `show`, `replay` and `drop` take. */
  readonly id: string;
  readonly disStream: string;
  readonly failedAt: string;
  /** The spool entry it was. */
  readonly entryId: string;
  readonly errorCode: string;
  readonly errorMessage: string;
  /** Undefined for an entry too damaged to name them (ERR_SPOOL_BAD_ENTRY): it cannot be replayed. */
  readonly receiptId: string | undefined;
  readonly index: number | undefined;
  readonly dataBytes: number;
}

export interface DeadLetter extends DeadLetterSummary {
  readonly data: Buffer;
  readonly partitionKey: string | undefined;
  readonly partitionId: string | undefined;
  readonly explicitHashKey: string | undefined;
}

export type ReplayResult =
  | { readonly status: 'replayed'; readonly spoolEntryId: string }
  /** Not in the dead-letter stream (any more): replayed or dropped already, or never there. */
  | { readonly status: 'missing' }
  /** The spool holds spool.max_entries: nothing was moved. */
  | { readonly status: 'full' }
  /** Lacks its data, receipt or index: the forwarder would only dead-letter it again. */
  | { readonly status: 'damaged' };

export interface DeadLetters {
  count(disStream: string): Promise<number>;
  /** Oldest first, at most `limit`: after `after` (exclusive), up to `through` (inclusive). */
  list(
    disStream: string,
    limit: number,
    range?: { readonly after?: string; readonly through?: string },
  ): Promise<DeadLetter[]>;
  get(disStream: string, id: string): Promise<DeadLetter | undefined>;
  /** The newest id now, so `--all` stops at what was there when it began. */
  lastId(disStream: string): Promise<string | undefined>;
  replay(disStream: string, id: string): Promise<ReplayResult>;
  /** True when it was there. */
  drop(disStream: string, id: string): Promise<boolean>;
  /** Deletes every dead letter up to and including `lastId`; returns how many. */
  dropThrough(disStream: string, lastId: string): Promise<number>;
}

export interface DeadLettersOptions {
  readonly redis: RedisClient;
  /** A replay is confirmed by the replicas like the append it stands in for (on `redis`). */
  readonly acks: ReplicaAcks;
  /** spool.max_entries: a replay into a full spool is refused, like an append. */
  readonly maxEntries: number;
  readonly keyPrefix?: string;
}

// Copy back and delete in one script on the spool's slot (the spool stream and its dead-letter
// stream share a hash tag): a crash cannot leave the record in both streams or in neither, and a
// second replay of the same id finds nothing. The settlement's four fields come last; the copy is
// the spool entry as it was appended, so the forwarder settles the same receipt record.
// KEYS: dead-letter stream, spool stream. ARGV: id, maxEntries.
const REPLAY = {
  name: 'gwDeadLetterReplayV1',
  lua: `
local found = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #found == 0 then return {0, ''} end
local fields = found[1][2]
local n = #fields
if n < 10 or fields[n - 7] ~= 'entry_id' then return {-1, ''} end
if redis.call('XLEN', KEYS[2]) >= tonumber(ARGV[2]) then return {-2, ''} end
local own = {}
for i = 1, n - 8 do own[i] = fields[i] end
local id = redis.call('XADD', KEYS[2], '*', unpack(own))
redis.call('XDEL', KEYS[1], ARGV[1])
return {1, id}
`,
};

const ReplayReply = z.tuple([z.number(), z.string()]);

function toFieldMap(fields: readonly Buffer[]): Map<string, Buffer> {
  const values = new Map<string, Buffer>();
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i];
    const value = fields[i + 1];
    if (name !== undefined && value !== undefined) values.set(name.toString('utf8'), value);
  }
  return values;
}

/** The entry's own fields: everything before the settlement's four (when they are there). */
function ownFields(fields: readonly Buffer[]): readonly Buffer[] {
  const n = fields.length;
  return n >= 8 && fields[n - 8]?.toString('utf8') === TAIL[0] ? fields.slice(0, n - 8) : fields;
}

function decodeDeadLetter(disStream: string, id: string, fields: readonly Buffer[]): DeadLetter {
  const values = toFieldMap(fields);
  const text = (name: string): string => values.get(name)?.toString('utf8') ?? '';
  const entry = decodeEntry(id, ownFields(fields));
  const data = entry?.record.data ?? values.get('data') ?? Buffer.alloc(0);
  return {
    id,
    disStream,
    failedAt: text('failed_at'),
    entryId: text('entry_id'),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    receiptId: entry?.receiptId,
    index: entry?.index,
    dataBytes: data.length,
    data,
    partitionKey: entry?.record.partitionKey,
    partitionId: entry?.record.partitionId,
    explicitHashKey: entry?.record.explicitHashKey,
  };
}

/** A stream id's successor: XTRIM MINID keeps ids at or above it. */
function nextId(id: string): string {
  const [ms, seq] = id.split('-');
  return `${ms ?? '0'}-${(BigInt(seq ?? '0') + 1n).toString()}`;
}

function isStreamId(id: string): boolean {
  return /^\d{1,20}-\d{1,20}$/.test(id);
}

export function createDeadLetters(options: DeadLettersOptions): DeadLetters {
  const { redis } = options;
  const keys = createSpoolKeys(options.keyPrefix);
  const replay = options.acks.script(REPLAY, 'dead_letter_replay');

  const range = async (
    disStream: string,
    start: string,
    end: string,
    count: number,
  ): Promise<DeadLetter[]> => {
    const reply = await redis.xrangeBuffer(keys.deadLetter(disStream), start, end, 'COUNT', count);
    return reply.map(([id, fields]) => decodeDeadLetter(disStream, id.toString('latin1'), fields));
  };

  return {
    count: (disStream) => redis.xlen(keys.deadLetter(disStream)),
    list: (disStream, limit, { after, through } = {}) =>
      range(disStream, after === undefined ? '-' : `(${after}`, through ?? '+', limit),
    async get(disStream, id) {
      if (!isStreamId(id)) return undefined;
      const [letter] = await range(disStream, id, id, 1);
      return letter;
    },
    async lastId(disStream) {
      const [last] = await redis.xrevrange(keys.deadLetter(disStream), '+', '-', 'COUNT', 1);
      return last?.[0];
    },
    async replay(disStream, id) {
      if (!isStreamId(id)) return { status: 'missing' };
      const letter = (await range(disStream, id, id, 1))[0];
      if (letter === undefined) return { status: 'missing' };
      if (letter.receiptId === undefined) return { status: 'damaged' };
      const [code, spoolEntryId] = ReplayReply.parse(
        await replay(
          [keys.deadLetter(disStream), keys.stream(disStream)],
          [id, options.maxEntries],
        ),
      );
      if (code === 1) return { status: 'replayed', spoolEntryId };
      if (code === 0) return { status: 'missing' };
      if (code === -2) return { status: 'full' };
      return { status: 'damaged' };
    },
    async drop(disStream, id) {
      if (!isStreamId(id)) return false;
      return (await redis.xdel(keys.deadLetter(disStream), id)) > 0;
    },
    dropThrough: (disStream, lastId) =>
      redis.xtrim(keys.deadLetter(disStream), 'MINID', nextId(lastId)),
  };
}

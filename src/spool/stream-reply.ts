import { z } from 'zod';

// XREADGROUP and XAUTOCLAIM replies, read as Buffers so record data keeps its exact bytes.

/** An entry as Redis returned it; `fields` is null for an entry deleted while pending. */
export interface RawEntry {
  readonly id: string;
  readonly fields: Buffer[] | null;
}

const Bytes = z.instanceof(Buffer);
const Entry = z.tuple([Bytes, z.array(Bytes).nullable()]);
const Entries = z.array(Entry);

// RESP2 answers a list of [key, entries] pairs; RESP3 (which ioredis negotiates) a map, which
// arrives flattened as key, entries, key, entries...
const ReadReply = z.union([
  z.null(),
  z.array(z.tuple([Bytes, Entries])),
  z.array(z.union([Bytes, Entries])),
]);

// Redis 7 adds the ids it found deleted (and dropped from the pending list) as a third element.
const AutoClaimReply = z.union([
  z.tuple([Bytes, Entries]),
  z.tuple([Bytes, Entries, z.array(Bytes)]),
]);

function toEntries(entries: z.output<typeof Entries>): RawEntry[] {
  return entries.map(([id, fields]) => ({ id: id.toString('latin1'), fields }));
}

/** Entries of the one stream read; none when a blocking read timed out (null reply). */
export function parseReadReply(reply: unknown): RawEntry[] {
  const streams = ReadReply.parse(reply);
  if (streams === null) return [];
  return streams.flatMap((item) => {
    if (Buffer.isBuffer(item)) return [];
    const pair = z.tuple([Bytes, Entries]).safeParse(item);
    return toEntries(pair.success ? pair.data[1] : Entries.parse(item));
  });
}

export function parseAutoClaimReply(reply: unknown): { cursor: string; entries: RawEntry[] } {
  const parsed = AutoClaimReply.parse(reply);
  return { cursor: parsed[0].toString('latin1'), entries: toEntries(parsed[1]) };
}

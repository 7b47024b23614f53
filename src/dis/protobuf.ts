import { CodedError, InvariantError } from '../errors/coded-error.ts';

// PutRecords as java-dis and python-dis send it with `body.serialize.type=protobuf` (dis-api.md §5):
// proto2, the four messages below and nothing else, so a hand-written codec is smaller than a
// dependency and its generated code. Field numbers (java-dis message.proto, python-dis record.proto):
//
//   PutRecordsRequest      { streamName = 1 string; records = 2 Entry; streamId = 30 string }
//   PutRecordsRequestEntry { data = 3 bytes; explicitHashKey = 4, partitionKey = 5,
//                            partitionId = 6 string; extendedInfo = 7 message; timestamp = 29 int64 }
//   PutRecordsResult       { failedRecordCount = 21 int32 (required); records = 22 ResultEntry }
//   PutRecordsResultEntry  { shardId = 23, sequenceNumber = 24, errorCode = 25, errorMessage = 26 }
//
// Decoding follows proto semantics where a client may rely on them: unknown fields are skipped by
// wire type, the last occurrence of an optional scalar wins, and a known field number that arrives
// with another wire type is an unknown field (as protobuf-java and upb treat it). Nothing recurses:
// the only nested message parsed is the entry, extendedInfo and unknown messages are skipped by
// their length, and groups (the one nesting a skipper would have to walk) are refused, so no input
// can nest deeper than request → entry.

/**
 * The most records one decoded request may hold unless the caller says otherwise: python-dis cuts
 * its batches at partitions × 1000 records, 50,000 under the default quota of 50 COMMON partitions.
 */
export const DEFAULT_MAX_RECORDS = 50_000;

export type ProtobufDecodeReason =
  | 'truncated varint'
  | 'varint longer than 10 bytes'
  | 'length beyond the end of the message'
  | 'truncated fixed-width field'
  | 'group wire type (3 or 4)'
  | 'invalid wire type (6 or 7)'
  | 'field number 0'
  | 'field number out of range'
  | 'invalid UTF-8 in a string field'
  | 'too many records'
  | 'missing required field';

/** The body is not a PutRecords message. Names the reason and the byte offset, never the input. */
export class ProtobufDecodeError extends CodedError<'ERR_PROTOBUF_DECODE'> {
  readonly reason: ProtobufDecodeReason;
  readonly offset: number;
  constructor(reason: ProtobufDecodeReason, offset: number) {
    super('ERR_PROTOBUF_DECODE', `${reason} at byte ${offset}`);
    this.reason = reason;
    this.offset = offset;
  }
}

export interface DecodedPutRecordsEntry {
  /** A view into the decoded bytes (no copy); empty when the field was absent. */
  data: Buffer;
  explicitHashKey?: string;
  partitionKey?: string;
  partitionId?: string;
  /** Milliseconds; a bigint only when outside the safe integers. */
  timestamp?: bigint | number;
}

export interface DecodedPutRecords {
  streamName?: string;
  streamId?: string;
  records: DecodedPutRecordsEntry[];
}

export interface DecodeOptions {
  /** Decoding throws as soon as one more entry than this arrives. Default DEFAULT_MAX_RECORDS. */
  readonly maxRecords?: number;
}

export type EncodablePutRecordsResultEntry =
  | { readonly shardId: string; readonly sequenceNumber: string }
  | { readonly errorCode: string; readonly errorMessage: string };

export interface EncodablePutRecordsResult {
  readonly failedRecordCount: number;
  readonly records: readonly EncodablePutRecordsResultEntry[];
}

export interface EncodablePutRecordsEntry {
  readonly data: Uint8Array;
  readonly explicitHashKey?: string;
  readonly partitionKey?: string;
  readonly partitionId?: string;
  readonly timestamp?: bigint | number;
}

export interface EncodablePutRecordsRequest {
  readonly streamName?: string;
  readonly streamId?: string;
  readonly records: readonly EncodablePutRecordsEntry[];
}

export interface DecodedPutRecordsResultEntry {
  shardId?: string;
  sequenceNumber?: string;
  errorCode?: string;
  errorMessage?: string;
}

export interface DecodedPutRecordsResult {
  failedRecordCount: number;
  records: DecodedPutRecordsResultEntry[];
}

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const START_GROUP = 3;
const END_GROUP = 4;
const FIXED32 = 5;

// Stateless outside streaming mode. ignoreBOM keeps a leading U+FEFF, as protobuf does.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// ---------------------------------------------------------------------------------------------
// Reading

interface Cursor {
  readonly bytes: Uint8Array;
  pos: number;
}

function fail(reason: ProtobufDecodeReason, offset: number): never {
  throw new ProtobufDecodeError(reason, offset);
}

/** A varint as a number: exact below 2^53, which every length and tag is. */
function readVarint(c: Cursor, end: number): number {
  const start = c.pos;
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (c.pos >= end) fail('truncated varint', start);
    const b = c.bytes[c.pos++] ?? 0;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return value;
    scale *= 128;
  }
  return fail('varint longer than 10 bytes', start);
}

/** An int64 varint: a number when safe (every millisecond timestamp), else a bigint. */
function readInt64(c: Cursor, end: number): bigint | number {
  const start = c.pos;
  // Seven bytes hold 49 bits: exact and non-negative as a number.
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 7; i++) {
    if (c.pos >= end) fail('truncated varint', start);
    const b = c.bytes[c.pos++] ?? 0;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return value;
    scale *= 128;
  }
  let big = BigInt(value);
  for (let shift = 49n; shift < 70n; shift += 7n) {
    if (c.pos >= end) fail('truncated varint', start);
    const b = c.bytes[c.pos++] ?? 0;
    big |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) {
      const signed = BigInt.asIntN(64, big);
      const n = Number(signed);
      return Number.isSafeInteger(n) ? n : signed;
    }
  }
  return fail('varint longer than 10 bytes', start);
}

function readInt32(c: Cursor, end: number): number {
  const v = readInt64(c, end);
  return typeof v === 'bigint' ? Number(BigInt.asIntN(32, v)) : v | 0;
}

/** The tag: field number × 8 + wire type. */
function readTag(c: Cursor, end: number): number {
  const start = c.pos;
  const tag = readVarint(c, end);
  if (tag > 0xffffffff) fail('field number out of range', start);
  if (tag >>> 3 === 0) fail('field number 0', start);
  return tag;
}

/** A length prefix, checked against the end of the enclosing message; returns the content's end. */
function readLength(c: Cursor, end: number): number {
  const start = c.pos;
  const length = readVarint(c, end);
  if (length > end - c.pos) fail('length beyond the end of the message', start);
  return c.pos + length;
}

function readString(c: Cursor, end: number): string {
  const to = readLength(c, end);
  const from = c.pos;
  c.pos = to;
  try {
    return utf8.decode(c.bytes.subarray(from, to));
  } catch {
    return fail('invalid UTF-8 in a string field', from);
  }
}

function readBytes(c: Cursor, end: number): Buffer {
  const to = readLength(c, end);
  const from = c.pos;
  c.pos = to;
  return Buffer.from(c.bytes.buffer, c.bytes.byteOffset + from, to - from);
}

function skipField(c: Cursor, tag: number, end: number): void {
  const wireType = tag & 7;
  switch (wireType) {
    case VARINT:
      readVarint(c, end);
      return;
    case LENGTH_DELIMITED:
      c.pos = readLength(c, end);
      return;
    case FIXED64:
    case FIXED32: {
      const width = wireType === FIXED64 ? 8 : 4;
      if (end - c.pos < width) fail('truncated fixed-width field', c.pos);
      c.pos += width;
      return;
    }
    case START_GROUP:
    case END_GROUP:
      return fail('group wire type (3 or 4)', c.pos);
    default:
      return fail('invalid wire type (6 or 7)', c.pos);
  }
}

const tagOf = (field: number, wireType: number): number => field * 8 + wireType;

const STREAM_NAME = tagOf(1, LENGTH_DELIMITED);
const RECORDS = tagOf(2, LENGTH_DELIMITED);
const STREAM_ID = tagOf(30, LENGTH_DELIMITED);
const DATA = tagOf(3, LENGTH_DELIMITED);
const EXPLICIT_HASH_KEY = tagOf(4, LENGTH_DELIMITED);
const PARTITION_KEY = tagOf(5, LENGTH_DELIMITED);
const PARTITION_ID = tagOf(6, LENGTH_DELIMITED);
const TIMESTAMP = tagOf(29, VARINT);
const FAILED_RECORD_COUNT = tagOf(21, VARINT);
const RESULT_RECORDS = tagOf(22, LENGTH_DELIMITED);
const SHARD_ID = tagOf(23, LENGTH_DELIMITED);
const SEQUENCE_NUMBER = tagOf(24, LENGTH_DELIMITED);
const ERROR_CODE = tagOf(25, LENGTH_DELIMITED);
const ERROR_MESSAGE = tagOf(26, LENGTH_DELIMITED);

function readEntry(c: Cursor, end: number): DecodedPutRecordsEntry {
  const entry: DecodedPutRecordsEntry = {
    data: Buffer.from(c.bytes.buffer, c.bytes.byteOffset + c.pos, 0),
  };
  while (c.pos < end) {
    const tag = readTag(c, end);
    if (tag === DATA) entry.data = readBytes(c, end);
    else if (tag === EXPLICIT_HASH_KEY) entry.explicitHashKey = readString(c, end);
    else if (tag === PARTITION_KEY) entry.partitionKey = readString(c, end);
    else if (tag === PARTITION_ID) entry.partitionId = readString(c, end);
    else if (tag === TIMESTAMP) entry.timestamp = readInt64(c, end);
    // extendedInfo (7) is skipped with the unknown fields.
    else skipField(c, tag, end);
  }
  return entry;
}

export function decodePutRecordsRequest(
  bytes: Uint8Array,
  options: DecodeOptions = {},
): DecodedPutRecords {
  const maxRecords = options.maxRecords ?? DEFAULT_MAX_RECORDS;
  const c: Cursor = { bytes, pos: 0 };
  const end = bytes.length;
  const request: DecodedPutRecords = { records: [] };
  while (c.pos < end) {
    const tag = readTag(c, end);
    if (tag === RECORDS) {
      if (request.records.length >= maxRecords) fail('too many records', c.pos);
      const to = readLength(c, end);
      request.records.push(readEntry(c, to));
    } else if (tag === STREAM_NAME) request.streamName = readString(c, end);
    else if (tag === STREAM_ID) request.streamId = readString(c, end);
    else skipField(c, tag, end);
  }
  return request;
}

function readResultEntry(c: Cursor, end: number): DecodedPutRecordsResultEntry {
  const entry: DecodedPutRecordsResultEntry = {};
  while (c.pos < end) {
    const tag = readTag(c, end);
    if (tag === SHARD_ID) entry.shardId = readString(c, end);
    else if (tag === SEQUENCE_NUMBER) entry.sequenceNumber = readString(c, end);
    else if (tag === ERROR_CODE) entry.errorCode = readString(c, end);
    else if (tag === ERROR_MESSAGE) entry.errorMessage = readString(c, end);
    else skipField(c, tag, end);
  }
  return entry;
}

/** What an SDK does with the gateway's answer: for test clients. */
export function decodePutRecordsResult(
  bytes: Uint8Array,
  options: DecodeOptions = {},
): DecodedPutRecordsResult {
  const maxRecords = options.maxRecords ?? DEFAULT_MAX_RECORDS;
  const c: Cursor = { bytes, pos: 0 };
  const end = bytes.length;
  let failedRecordCount: number | undefined;
  const records: DecodedPutRecordsResultEntry[] = [];
  while (c.pos < end) {
    const tag = readTag(c, end);
    if (tag === RESULT_RECORDS) {
      if (records.length >= maxRecords) fail('too many records', c.pos);
      const to = readLength(c, end);
      records.push(readResultEntry(c, to));
    } else if (tag === FAILED_RECORD_COUNT) failedRecordCount = readInt32(c, end);
    else skipField(c, tag, end);
  }
  if (failedRecordCount === undefined) fail('missing required field', end);
  return { failedRecordCount, records };
}

// ---------------------------------------------------------------------------------------------
// Writing: one pass to size every string and message, one Buffer.allocUnsafe, one pass to write.

function varintSize(n: number): number {
  let size = 1;
  for (let v = n; v >= 128; v = Math.floor(v / 128)) size++;
  return size;
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  let p = pos;
  let v = n;
  while (v >= 128) {
    buf[p++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[p++] = v;
  return p;
}

/** An int64 as the unsigned varint on the wire: negatives are ten bytes of two's complement. */
function int64Wire(value: bigint | number, what: string): bigint | number {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new InvariantError(`${what} is not a safe integer`);
    if (value >= 0) return value;
  }
  const big = BigInt(value);
  if (big !== BigInt.asIntN(64, big)) throw new InvariantError(`${what} is out of int64 range`);
  return BigInt.asUintN(64, big);
}

function bigVarintSize(v: bigint | number): number {
  if (typeof v === 'number') return varintSize(v);
  let size = 1;
  for (let rest = v; rest >= 128n; rest >>= 7n) size++;
  return size;
}

function writeBigVarint(buf: Buffer, pos: number, v: bigint | number): number {
  if (typeof v === 'number') return writeVarint(buf, pos, v);
  let p = pos;
  let rest = v;
  while (rest >= 128n) {
    buf[p++] = Number(rest & 0x7fn) | 0x80;
    rest >>= 7n;
  }
  buf[p++] = Number(rest);
  return p;
}

/** Sizes measured in the first pass, consumed in the same order by the second. */
interface Plan {
  readonly sizes: number[];
  next: number;
}

/** Bytes of a length-delimited field (tag, length, content) whose content is `length` long. */
const delimitedSize = (tag: number, length: number): number =>
  varintSize(tag) + varintSize(length) + length;

function planString(plan: Plan, tag: number, s: string | undefined): number {
  if (s === undefined) return 0;
  const length = Buffer.byteLength(s, 'utf8');
  plan.sizes.push(length);
  return delimitedSize(tag, length);
}

function writeString(buf: Buffer, pos: number, plan: Plan, tag: number, s: string | undefined) {
  if (s === undefined) return pos;
  const length = plan.sizes[plan.next++] ?? 0;
  const p = writeVarint(buf, writeVarint(buf, pos, tag), length);
  return p + buf.write(s, p, length, 'utf8');
}

/** Reserves a slot for a nested message's length, filled once its fields are measured. */
function reserve(plan: Plan): number {
  plan.sizes.push(0);
  return plan.sizes.length - 1;
}

function writeHeader(buf: Buffer, pos: number, plan: Plan, tag: number): number {
  return writeVarint(buf, writeVarint(buf, pos, tag), plan.sizes[plan.next++] ?? 0);
}

export function encodePutRecordsResult(result: EncodablePutRecordsResult): Buffer {
  const count = result.failedRecordCount;
  if (!Number.isInteger(count) || count < 0 || count > 0x7fffffff) {
    throw new InvariantError('failedRecordCount is not a non-negative int32');
  }
  const plan: Plan = { sizes: [], next: 0 };
  let total = varintSize(FAILED_RECORD_COUNT) + varintSize(count);
  for (const entry of result.records) {
    const slot = reserve(plan);
    const size =
      'errorCode' in entry
        ? planString(plan, ERROR_CODE, entry.errorCode) +
          planString(plan, ERROR_MESSAGE, entry.errorMessage)
        : planString(plan, SHARD_ID, entry.shardId) +
          planString(plan, SEQUENCE_NUMBER, entry.sequenceNumber);
    plan.sizes[slot] = size;
    total += delimitedSize(RESULT_RECORDS, size);
  }

  const buf = Buffer.allocUnsafe(total);
  let p = writeVarint(buf, writeVarint(buf, 0, FAILED_RECORD_COUNT), count);
  for (const entry of result.records) {
    p = writeHeader(buf, p, plan, RESULT_RECORDS);
    if ('errorCode' in entry) {
      p = writeString(buf, p, plan, ERROR_CODE, entry.errorCode);
      p = writeString(buf, p, plan, ERROR_MESSAGE, entry.errorMessage);
    } else {
      p = writeString(buf, p, plan, SHARD_ID, entry.shardId);
      p = writeString(buf, p, plan, SEQUENCE_NUMBER, entry.sequenceNumber);
    }
  }
  if (p !== total) throw new InvariantError(`PutRecordsResult wrote ${p} of ${total} bytes`);
  return buf;
}

/** What an SDK sends: for test clients, and for the cross-check of the decoder. */
export function encodePutRecordsRequest(request: EncodablePutRecordsRequest): Buffer {
  const plan: Plan = { sizes: [], next: 0 };
  const timestamps: (bigint | number | undefined)[] = [];
  let total = planString(plan, STREAM_NAME, request.streamName);
  for (const entry of request.records) {
    const slot = reserve(plan);
    const timestamp =
      entry.timestamp === undefined ? undefined : int64Wire(entry.timestamp, 'timestamp');
    timestamps.push(timestamp);
    const size =
      delimitedSize(DATA, entry.data.length) +
      planString(plan, EXPLICIT_HASH_KEY, entry.explicitHashKey) +
      planString(plan, PARTITION_KEY, entry.partitionKey) +
      planString(plan, PARTITION_ID, entry.partitionId) +
      (timestamp === undefined ? 0 : varintSize(TIMESTAMP) + bigVarintSize(timestamp));
    plan.sizes[slot] = size;
    total += delimitedSize(RECORDS, size);
  }
  total += planString(plan, STREAM_ID, request.streamId);

  const buf = Buffer.allocUnsafe(total);
  let p = writeString(buf, 0, plan, STREAM_NAME, request.streamName);
  request.records.forEach((entry, i) => {
    p = writeHeader(buf, p, plan, RECORDS);
    p = writeVarint(buf, writeVarint(buf, p, DATA), entry.data.length);
    buf.set(entry.data, p);
    p += entry.data.length;
    p = writeString(buf, p, plan, EXPLICIT_HASH_KEY, entry.explicitHashKey);
    p = writeString(buf, p, plan, PARTITION_KEY, entry.partitionKey);
    p = writeString(buf, p, plan, PARTITION_ID, entry.partitionId);
    const timestamp = timestamps[i];
    if (timestamp !== undefined) p = writeBigVarint(buf, writeVarint(buf, p, TIMESTAMP), timestamp);
  });
  p = writeString(buf, p, plan, STREAM_ID, request.streamId);
  if (p !== total) throw new InvariantError(`PutRecordsRequest wrote ${p} of ${total} bytes`);
  return buf;
}

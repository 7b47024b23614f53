import { randomBytes } from 'node:crypto';

// W3C Trace Context (https://www.w3.org/TR/trace-context/), level 1: a request's `traceparent`
// is kept when it is valid, else a trace starts here; the request's own span gets a fresh id, and
// each DIS call is a child span of a request it carries. Nothing is exported to a collector: the ids
// go into log lines and onto the DIS call, so a trace can be followed across systems by its id.

export interface TraceContext {
  /** 32 lowercase hex digits, not all zero. */
  readonly traceId: string;
  /** This span: 16 lowercase hex digits, not all zero. */
  readonly spanId: string;
  /** The caller's span, when it sent a valid traceparent. */
  readonly parentId?: string | undefined;
  /** 2 hex digits; bit 0 is "sampled". */
  readonly flags: string;
  /** Vendors' state, passed on unchanged when it is well-formed. */
  readonly tracestate?: string | undefined;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);
// §3.3: at most 32 list members, each key=value with a restricted alphabet; 512 characters is the
// length a vendor may truncate to, and more is not passed on.
const TRACESTATE_MEMBER =
  /^(?:[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13}|[a-z][a-z0-9_\-*/]{0,255})=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

export type RandomHex = (bytes: number) => string;

/**
 * Random ids from a pool refilled 4 KiB at a time: `randomBytes` per id was a getrandom call each,
 * 8 % of the gateway's CPU on single events in the profile (two or three ids per request). The
 * same CSPRNG, as crypto.randomUUID buffers it; ids need to be unpredictable, not secret.
 */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let offset = POOL_BYTES;

export const randomHex: RandomHex = (bytes) => {
  if (bytes > POOL_BYTES)
    throw new RangeError(`at most ${String(POOL_BYTES)} random bytes at once`);
  if (offset + bytes > pool.length) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  const id = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return id;
};

function nonZero(random: RandomHex, bytes: number, zero: string): string {
  for (;;) {
    const id = random(bytes);
    if (id !== zero) return id;
  }
}

/** The caller's `traceparent`, or undefined when it is absent or not valid (one header only). */
export function parseTraceparent(
  header: readonly string[] | undefined,
): { traceId: string; parentId: string; flags: string } | undefined {
  if (header?.length !== 1) return undefined;
  const match = TRACEPARENT.exec(header[0]?.trim() ?? '');
  if (match === null) return undefined;
  const [, version = '', traceId = '', parentId = '', flags = '', rest] = match;
  // Version ff is invalid; version 00 has no more fields; a later version may (§4.3).
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (traceId === ZERO_TRACE || parentId === ZERO_SPAN) return undefined;
  return { traceId, parentId, flags };
}

/** All `tracestate` fields joined, when every member is well-formed and it is not too long. */
export function parseTracestate(header: readonly string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const members = header
    .join(',')
    .split(',')
    .map((member) => member.trim())
    .filter((member) => member !== '');
  if (members.length === 0 || members.length > 32) return undefined;
  if (!members.every((member) => TRACESTATE_MEMBER.test(member))) return undefined;
  const joined = members.join(',');
  return joined.length <= 512 ? joined : undefined;
}

/** The request's span: a child of the caller's, or the root of a new trace. */
export function startTrace(
  traceparent: readonly string[] | undefined,
  tracestate: readonly string[] | undefined,
  random: RandomHex = randomHex,
): TraceContext {
  const parent = parseTraceparent(traceparent);
  const spanId = nonZero(random, 8, ZERO_SPAN);
  if (parent === undefined)
    return { traceId: nonZero(random, 16, ZERO_TRACE), spanId, flags: '00' };
  return {
    traceId: parent.traceId,
    spanId,
    parentId: parent.parentId,
    flags: parent.flags,
    tracestate: parseTracestate(tracestate),
  };
}

/** A child span of `trace` (a DIS call), as the headers that carry it. */
export function childTraceHeaders(
  trace: TraceContext,
  random: RandomHex = randomHex,
): { readonly traceparent: string; readonly tracestate?: string | undefined } {
  const traceparent = `00-${trace.traceId}-${nonZero(random, 8, ZERO_SPAN)}-${trace.flags}`;
  return trace.tracestate === undefined
    ? { traceparent }
    : { traceparent, tracestate: trace.tracestate };
}

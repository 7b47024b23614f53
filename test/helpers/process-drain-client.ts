import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { request, type Agent } from 'undici';
import { z } from 'zod';
import type { Emulator } from '../../src/emulator/emulator.ts';

// The client side of the drain process test: posting records with ids, watching /readyz, probing the
// listener, and reading what DIS (the in-process emulator) ended up holding.

const OkVerdict = z.object({
  status: z.literal('ok'),
  id: z.string().optional(),
  partition_id: z.string(),
  sequence_number: z.string(),
});
const FailedVerdict = z.object({
  status: z.literal('failed'),
  id: z.string().optional(),
  error_code: z.string(),
  error_message: z.string(),
});
const RecordsAnswer = z.object({
  stream: z.string(),
  failed_record_count: z.number().int(),
  records: z.array(z.discriminatedUnion('status', [OkVerdict, FailedVerdict])),
});
export type RecordsAnswer = z.output<typeof RecordsAnswer>;

/** What the test sends as a record's `data`; the same JSON comes back out of DIS. */
export const DrainPayload = z.strictObject({ id: z.string(), run: z.number(), nonce: z.string() });
export type DrainPayload = z.output<typeof DrainPayload>;

export type PostOutcome =
  | {
      readonly kind: 'answered';
      readonly status: number;
      /** The `Connection` response header, `undefined` when absent. */
      readonly connection: string | undefined;
      readonly answer: RecordsAnswer | undefined;
      readonly text: string;
      readonly at: number;
    }
  | { readonly kind: 'error'; readonly error: string; readonly at: number };

export interface PostRecordsOptions {
  readonly url: string;
  readonly agent: Agent;
  readonly token: string;
  readonly stream: string;
  readonly records: readonly DrainPayload[];
  /** performance.now() of the run's origin, so outcomes carry comparable times. */
  readonly origin: number;
}

/** One POST /v1/streams/{stream}/records; never rejects (a transport error is an outcome too). */
export async function postRecords(options: PostRecordsOptions): Promise<PostOutcome> {
  try {
    const response = await request(`${options.url}/v1/streams/${options.stream}/records`, {
      method: 'POST',
      dispatcher: options.agent,
      headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ records: options.records.map((data) => ({ id: data.id, data })) }),
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    const text = await response.body.text();
    const parsed = RecordsAnswer.safeParse(safeJson(text));
    const connection = response.headers.connection;
    return {
      kind: 'answered',
      status: response.statusCode,
      connection: typeof connection === 'string' ? connection.toLowerCase() : undefined,
      answer: parsed.success ? parsed.data : undefined,
      text,
      at: performance.now() - options.origin,
    };
  } catch (error) {
    return { kind: 'error', error: describeError(error), at: performance.now() - options.origin };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = 'code' in error ? String(error.code) : error.name;
  return `${code}: ${error.message}`;
}

export interface ReadinessSample {
  /** Ms after the origin at which the poll started. */
  readonly at: number;
  /** Ms after the origin at which its answer (or connect error) came. */
  readonly doneAt: number;
  /** HTTP status, or the connect error's code. */
  readonly result: number | string;
}

/**
 * Polls GET /readyz on fresh connections every `intervalMs` until a poll cannot connect, `stop()`
 * says so, or `maxMs` has passed; `onSample` sees each sample as it comes.
 */
export async function pollReadiness(options: {
  readonly url: string;
  readonly agent: Agent;
  readonly origin: number;
  readonly intervalMs: number;
  readonly maxMs: number;
  readonly stop: () => boolean;
  readonly onSample: (sample: ReadinessSample) => void;
}): Promise<readonly ReadinessSample[]> {
  const samples: ReadinessSample[] = [];
  const until = performance.now() + options.maxMs;
  while (!options.stop() && performance.now() < until) {
    const at = performance.now() - options.origin;
    let result: number | string;
    try {
      const response = await request(`${options.url}/readyz`, {
        dispatcher: options.agent,
        headers: { connection: 'close' },
        headersTimeout: 2000,
        bodyTimeout: 2000,
      });
      await response.body.text();
      result = response.statusCode;
    } catch (error) {
      result = describeError(error).split(':')[0] ?? 'error';
    }
    const sample = { at, doneAt: performance.now() - options.origin, result };
    samples.push(sample);
    options.onSample(sample);
    if (typeof result === 'string') break;
    await sleep(options.intervalMs);
  }
  return samples;
}

/**
 * Readiness through a drain: every poll from the first 503 on answers 503 until one cannot connect,
 * and none is refused before `delayMs` after the signal (the instance still serves meanwhile).
 */
export function expectReadinessDrain(options: {
  readonly samples: readonly ReadinessSample[];
  readonly flip: ReadinessSample;
  readonly signalAt: number;
  readonly delayMs: number;
}): { readonly firstRefused: ReadinessSample | undefined; readonly polls503: number } {
  const { samples, flip, signalAt, delayMs } = options;
  const firstRefused = samples.find((sample) => typeof sample.result === 'string');
  const after = samples.filter((sample) => sample.at >= flip.at);
  assert.deepEqual(
    after.filter((sample) => sample !== firstRefused && sample.result !== 503),
    [],
    'every readiness poll after the flip answers 503',
  );
  const flipMs = flip.doneAt - signalAt;
  assert.ok(flipMs < delayMs / 2, `readiness flipped ${flipMs.toFixed(0)} ms after the signal`);
  // The poll starts a moment before its connect: a little slack below the delay.
  const refusedMs = (firstRefused?.at ?? Number.POSITIVE_INFINITY) - signalAt;
  assert.ok(refusedMs >= delayMs - 20, `a new connection refused ${refusedMs.toFixed(0)} ms after`);
  return { firstRefused, polls503: after.filter((sample) => sample.result === 503).length };
}

/** A bare TCP connect: 'connected' (closed again at once) or the error code, e.g. ECONNREFUSED. */
export function probeConnect(url: string, timeoutMs = 2000): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      resolve(error.code ?? error.message);
    });
  });
}

export interface Position {
  readonly partitionId: string;
  readonly sequenceNumber: string;
}

export interface StoredRecord extends Position {
  /** The record's data parsed back; undefined when it is not one of this test's payloads. */
  readonly payload: DrainPayload | undefined;
}

/** Every record the emulator holds for a DIS stream, with its position. */
export function storedRecords(emulator: Emulator, disStream: string): StoredRecord[] {
  return emulator.state.records(disStream).flatMap((partition) =>
    partition.records.map((record) => {
      const parsed = DrainPayload.safeParse(safeJson(record.data.toString('utf8')));
      return {
        partitionId: partition.partitionId,
        sequenceNumber: record.sequenceNumber.toString(),
        payload: parsed.success ? parsed.data : undefined,
      };
    }),
  );
}

/** Asserts a 200 whose verdicts are one `ok` per sent record, in order; returns the answer. */
function expectRecordsOk(
  outcome: PostOutcome,
  sent: readonly DrainPayload[],
  label: string,
): Extract<PostOutcome, { kind: 'answered' }> & { readonly answer: RecordsAnswer } {
  assert.equal(outcome.kind, 'answered', `${label}: ${JSON.stringify(outcome)}`);
  assert.equal(outcome.status, 200, `${label}: ${outcome.text.slice(0, 300)}`);
  const { answer } = outcome;
  assert.ok(answer !== undefined, `${label}: not a records answer: ${outcome.text}`);
  assert.equal(answer.failed_record_count, 0, label);
  assert.deepEqual(
    answer.records.map((verdict) => [verdict.id, verdict.status]),
    sent.map((payload) => [payload.id, 'ok']),
    `${label}: one ok verdict per record, in request order`,
  );
  return { ...outcome, answer };
}

/**
 * Asserts that the stored records are exactly the acknowledged ones: each stored once, at the
 * position its answer gave, with the payload that was sent. Returns them.
 */
export function expectStoredExactly(
  stored: readonly StoredRecord[],
  acknowledged: ReadonlyMap<string, Position>,
  sent: ReadonlyMap<string, DrainPayload>,
): readonly StoredRecord[] {
  for (const record of stored) {
    const id = record.payload?.id ?? '(not a test payload)';
    assert.deepEqual(record.payload, sent.get(id), `stored record ${id} was sent as is`);
    assert.deepEqual(
      acknowledged.get(id),
      { partitionId: record.partitionId, sequenceNumber: record.sequenceNumber },
      `stored record ${id} was acknowledged at its position`,
    );
  }
  assert.equal(stored.length, acknowledged.size, 'every acknowledged record is in DIS, once');
  return stored;
}

export interface SentRequest {
  readonly label: string;
  /** Undefined only through an indexing slip in the test: it fails the assertion. */
  readonly sent: readonly DrainPayload[] | undefined;
  readonly outcome: PostOutcome;
}

/** Asserts every request was answered 200 with its verdicts; returns where each record went. */
export function expectAllAcknowledged(requests: readonly SentRequest[]): {
  readonly acknowledged: ReadonlyMap<string, Position>;
  readonly sentById: ReadonlyMap<string, DrainPayload>;
} {
  const acknowledged = new Map<string, Position>();
  const sentById = new Map<string, DrainPayload>();
  for (const { label, sent, outcome } of requests) {
    assert.ok(sent !== undefined, `${label}: what was sent`);
    const ok = expectRecordsOk(outcome, sent, label);
    ok.answer.records.forEach((verdict, j) => {
      const payload = sent[j];
      assert.ok(payload !== undefined && verdict.status === 'ok', `${label}: record ${j}`);
      sentById.set(payload.id, payload);
      acknowledged.set(payload.id, {
        partitionId: verdict.partition_id,
        sequenceNumber: verdict.sequence_number,
      });
    });
  }
  return { acknowledged, sentById };
}

import { z } from 'zod';

// A receipt is one Redis hash: who sent it, to which logical stream, when, how many records, and
// one field per record that has an outcome (`r:<index>`). A record without a field is pending.

export type ReceiptRecord =
  | { readonly status: 'pending' }
  | { readonly status: 'written'; readonly partition_id: string; readonly sequence_number: string }
  | {
      readonly status: 'dead_lettered';
      readonly error_code: string;
      readonly error_message: string;
    };

export type ReceiptStatus = 'pending' | 'written' | 'dead_lettered' | 'partial';

/** The body of `GET /v1/receipts/{id}`; field names follow DIS, like the synchronous answer. */
export interface Receipt {
  readonly id: string;
  /** The logical stream the records were sent to. */
  readonly stream: string;
  readonly status: ReceiptStatus;
  readonly accepted_at: string;
  readonly records: readonly ReceiptRecord[];
}

export const RECEIPT_FIELD = {
  owner: 'owner',
  stream: 'stream',
  count: 'count',
  acceptedAt: 'accepted_at',
} as const;

export function recordField(index: number): string {
  return `r:${index}`;
}

const StoredOutcome = z.discriminatedUnion('s', [
  z.object({ s: z.literal('w'), p: z.string(), n: z.string() }),
  z.object({ s: z.literal('d'), c: z.string(), m: z.string() }),
]);

export type RecordOutcome =
  | { readonly status: 'written'; readonly partitionId: string; readonly sequenceNumber: string }
  | { readonly status: 'dead_lettered'; readonly errorCode: string; readonly errorMessage: string };

export function encodeOutcome(outcome: RecordOutcome): string {
  return JSON.stringify(
    outcome.status === 'written'
      ? { s: 'w', p: outcome.partitionId, n: outcome.sequenceNumber }
      : { s: 'd', c: outcome.errorCode, m: outcome.errorMessage },
  );
}

function decodeOutcome(text: string | undefined): ReceiptRecord {
  if (text === undefined) return { status: 'pending' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { status: 'pending' };
  }
  const parsed = StoredOutcome.safeParse(value);
  if (!parsed.success) return { status: 'pending' };
  const stored = parsed.data;
  return stored.s === 'w'
    ? { status: 'written', partition_id: stored.p, sequence_number: stored.n }
    : { status: 'dead_lettered', error_code: stored.c, error_message: stored.m };
}

/** Pending while any record is; otherwise written, dead-lettered, or partial when both occurred. */
export function summarizeStatus(records: readonly ReceiptRecord[]): ReceiptStatus {
  let written = 0;
  let dead = 0;
  for (const record of records) {
    if (record.status === 'pending') return 'pending';
    if (record.status === 'written') written += 1;
    else dead += 1;
  }
  if (dead === 0) return 'written';
  return written === 0 ? 'dead_lettered' : 'partial';
}

export interface StoredReceipt {
  readonly owner: string;
  readonly receipt: Receipt;
}

const MAX_RECORDS_PER_RECEIPT = 100_000;

/** The receipt from its hash (HGETALL); undefined when missing or not one of ours. */
export function parseReceiptHash(
  id: string,
  hash: Readonly<Record<string, string>>,
): StoredReceipt | undefined {
  const owner = hash[RECEIPT_FIELD.owner];
  const stream = hash[RECEIPT_FIELD.stream];
  const count = Number(hash[RECEIPT_FIELD.count]);
  const acceptedAt = Number(hash[RECEIPT_FIELD.acceptedAt]);
  if (
    owner === undefined ||
    stream === undefined ||
    !Number.isSafeInteger(count) ||
    count < 1 ||
    count > MAX_RECORDS_PER_RECEIPT ||
    !Number.isFinite(acceptedAt)
  ) {
    return undefined;
  }
  const records = Array.from({ length: count }, (_, i) => decodeOutcome(hash[recordField(i)]));
  return {
    owner,
    receipt: {
      id,
      stream,
      status: summarizeStatus(records),
      accepted_at: new Date(acceptedAt).toISOString(),
      records,
    },
  };
}

import { z } from 'zod';
import { SHARD_ID } from '../dis/wire.ts';

// The bodies the gateway answers with (problems aside: errors/problem-body.ts). The routes build
// them through the types below and the OpenAPI document is generated from the same schemas, so the
// two cannot drift apart. Nothing parses an answer at runtime: the schemas are the shape, the
// component tests check real answers against the document. Field names follow DIS.

/**
 * Answers are built once and never changed; readonly all the way down, so that read-only data
 * (a receipt from the spool, verdicts from the DIS client) fits without a copy.
 */
type Immutable<T> = T extends readonly (infer U)[]
  ? readonly Immutable<U>[]
  : T extends object
    ? { readonly [K in keyof T]: Immutable<T[K]> }
    : T;

const partitionId = z.string().regex(SHARD_ID);
const sequenceNumber = z.string().regex(/^\d+$/);
const correlationId = z.string().meta({ description: 'The record’s `id` as sent' });

export const recordVerdictSchema = z.discriminatedUnion('status', [
  z.object({
    id: correlationId.exactOptional(),
    status: z.literal('ok'),
    partition_id: partitionId,
    sequence_number: sequenceNumber,
  }),
  z.object({
    id: correlationId.exactOptional(),
    status: z.literal('failed'),
    error_code: z.string(),
    error_message: z.string(),
    retryable: z.boolean(),
    retry_after_ms: z.int().min(0).exactOptional(),
  }),
]);
/** One record's verdict in a 200/207 answer, in request order. */
export type RecordVerdictBody = Immutable<z.output<typeof recordVerdictSchema>>;

export const recordsAnswerSchema = z.object({
  stream: z.string(),
  failed_record_count: z.int().min(0),
  records: z.array(recordVerdictSchema),
});
/** The 200 (every record written) or 207 (some failed) body of the records endpoint. */
export type RecordsAnswer = Immutable<z.output<typeof recordsAnswerSchema>>;

export const acceptedAnswerSchema = z.object({
  stream: z.string(),
  receipt: z.string(),
  accepted_record_count: z.int().min(1),
});
/** The 202 body of `Prefer: respond-async`: the records are in the spool. */
export type AcceptedAnswer = Immutable<z.output<typeof acceptedAnswerSchema>>;

export const webhookWrittenSchema = z.object({
  delivery_id: z.string(),
  partition_id: partitionId,
  sequence_number: sequenceNumber,
});
/** Sync mode: the envelope is in DIS. */
export type WebhookWrittenAnswer = Immutable<z.output<typeof webhookWrittenSchema>>;

export const webhookDuplicateSchema = z.object({
  duplicate: z.literal(true),
  delivery_id: z.string(),
});
/** A delivery id seen before: nothing written, the sender may stop retrying. */
export type WebhookDuplicateAnswer = Immutable<z.output<typeof webhookDuplicateSchema>>;

export const webhookChallengeSchema = z.object({ challenge: z.string() });
/** A signed handshake (Slack's url_verification) answered with its challenge; nothing written. */
export type WebhookChallengeAnswer = Immutable<z.output<typeof webhookChallengeSchema>>;

/** The webhook endpoint's 200: written (sync mode), a duplicate, or a handshake's challenge. */
export const webhookDeliveredSchema = z.xor([
  webhookWrittenSchema,
  webhookDuplicateSchema,
  webhookChallengeSchema,
]);

export const webhookAcceptedSchema = z.object({ delivery_id: z.string(), receipt: z.string() });
/** Async mode's 202: the envelope is in the spool. */
export type WebhookAcceptedAnswer = Immutable<z.output<typeof webhookAcceptedSchema>>;

/** Every body the webhook endpoint answers with (its errors are problems). */
export type WebhookAnswer = WebhookWrittenAnswer | WebhookDuplicateAnswer | WebhookAcceptedAnswer;

const receiptRecordSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('pending') }),
  z.object({
    status: z.literal('written'),
    partition_id: partitionId,
    sequence_number: sequenceNumber,
  }),
  z.object({
    status: z.literal('dead_lettered'),
    error_code: z.string(),
    error_message: z.string(),
  }),
]);

export const receiptAnswerSchema = z.object({
  id: z.string(),
  stream: z.string().meta({ description: 'The logical stream the records were sent to' }),
  status: z.enum(['pending', 'written', 'dead_lettered', 'partial']),
  accepted_at: z.string().meta({ format: 'date-time' }),
  records: z.array(receiptRecordSchema),
});
/** `GET /v1/receipts/{id}`: what became of records accepted with 202. */
export type ReceiptAnswer = Immutable<z.output<typeof receiptAnswerSchema>>;

export const healthAnswerSchema = z.object({ status: z.literal('ok') });
export type HealthAnswer = Immutable<z.output<typeof healthAnswerSchema>>;

export const readinessAnswerSchema = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z.object({
    draining: z.boolean(),
    redis: z.enum(['up', 'down', 'not_configured']),
    /** The worst breaker of all DIS targets. */
    dis_breaker: z.enum(['closed', 'open', 'half-open']),
    /** Each DIS target's breaker by target name, when streams write to several. */
    dis_breakers: z.record(z.string(), z.enum(['closed', 'open', 'half-open'])).optional(),
  }),
});
/** `/readyz`, 200 and 503 alike. */
export type ReadinessAnswer = Immutable<z.output<typeof readinessAnswerSchema>>;

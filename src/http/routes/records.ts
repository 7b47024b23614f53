import { createHash } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { TokenVerifier } from '../../auth/jwt-verifier.ts';
import { authorizeStream, type Principal } from '../../auth/principal.ts';
import type { PutRecordsOutcome, RecordVerdict } from '../../dis/client.ts';
import { STREAM_NAME } from '../../dis/wire.ts';
import { AppError } from '../../errors/app-error.ts';
import type { IdempotencyStore, StoredAnswer } from '../../idempotency/types.ts';
import { isValidIdempotencyKey } from '../../idempotency/key.ts';
import type { Ingest } from '../../ingest/ingest.ts';
import { classifyOutcome } from '../../ingest/outcome.ts';
import type { RateLimiter } from '../../ratelimit/types.ts';
import { toSpoolRecord } from '../../spool/entry.ts';
import type { Spool } from '../../spool/spool.ts';
import { parseJsonRecords, parseNdjsonRecords } from '../parse/records-body.ts';
import { ingestUnavailable } from '../ingest-errors.ts';
import { parsePrefer } from '../prefer.ts';

export interface RecordsStream {
  readonly name: string;
  readonly disStream: string;
  readonly streamId?: string | undefined;
  readonly partitions: number;
  readonly partitionKeyPointer?: string | undefined;
}

export interface RecordsRouteOptions {
  readonly streams: ReadonlyMap<string, RecordsStream>;
  readonly verifier: TokenVerifier;
  readonly rateLimiter: RateLimiter;
  readonly idempotency: IdempotencyStore;
  readonly ingest: Ingest;
  /** The durable async path (`Prefer: respond-async`); absent without Redis, then answers are sync. */
  readonly spool: Spool | undefined;
  readonly now: () => number;
  readonly limits: {
    readonly bodyLimitBytes: number;
    readonly maxRecordsPerRequest: number;
    readonly maxRecordBytes: number;
    readonly maxJsonDepth: number;
  };
  /** Records by outcome (written, failed_retryable, failed, spooled), for metrics. */
  readonly onRecords?: ((stream: string, outcome: string, count: number) => void) | undefined;
  /** Deadline for DIS retries when the caller sends no `Prefer: wait`, and the cap on it. */
  readonly wait: { readonly defaultMs: number; readonly maxMs: number };
}

declare module 'express-serve-static-core' {
  interface Locals {
    principal?: Principal;
    stream?: RecordsStream;
    /** Record counts for the access log. */
    recordCounts?: { received: number; failed: number };
  }
}

const PATH = '/v1/streams/:stream/records';
const MEDIA_TYPES: Readonly<Record<string, 'json' | 'ndjson'>> = {
  'application/json': 'json',
  'application/x-ndjson': 'ndjson',
};

/** `application/json; charset=utf-8` → `json`; any other charset or type → undefined. */
function mediaKind(header: string | undefined): 'json' | 'ndjson' | undefined {
  if (header === undefined) return undefined;
  const [type = '', ...params] = header.split(';').map((part) => part.trim().toLowerCase());
  const kind = MEDIA_TYPES[type];
  for (const param of params) {
    const [name, value = ''] = param.split('=');
    if (name === 'charset' && value.replace(/"/g, '') !== 'utf-8') return undefined;
  }
  return kind;
}

function streamParam(req: Request): string {
  const value = req.params.stream;
  return typeof value === 'string' ? value : '';
}

function retryAfterSeconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}

function verdictBody(verdict: RecordVerdict, id: string | undefined): Record<string, unknown> {
  const echo = id === undefined ? {} : { id };
  if (verdict.status === 'ok') {
    return {
      ...echo,
      status: 'ok',
      partition_id: verdict.partitionId,
      sequence_number: verdict.sequenceNumber,
    };
  }
  return {
    ...echo,
    status: 'failed',
    error_code: verdict.errorCode,
    error_message: verdict.errorMessage,
    retryable: verdict.retryable,
    ...(verdict.retryAfterMs === undefined ? {} : { retry_after_ms: verdict.retryAfterMs }),
  };
}

/** The whole-request answer for an outcome, or the 200/207 body with every record's verdict. */
function answerFor(
  stream: string,
  outcome: PutRecordsOutcome,
  ids: readonly (string | undefined)[],
): StoredAnswer | AppError {
  const cls = classifyOutcome(outcome);
  switch (cls.kind) {
    case 'unavailable':
      return new AppError('ERR_DIS_UNAVAILABLE', {
        detail: 'DIS cannot be reached; nothing was written',
        headers: { 'Retry-After': retryAfterSeconds(cls.retryAfterMs) },
      });
    case 'timeout':
      return new AppError('ERR_DIS_TIMEOUT', {
        detail: 'DIS did not answer in time; no record is known to be written',
      });
    case 'upstream-error':
      return new AppError('ERR_DIS_BAD_GATEWAY', {
        detail: 'DIS refused the gateway’s request; nothing was written',
      });
    case 'written':
    case 'partial':
      return {
        status: cls.kind === 'written' ? 200 : 207,
        headers: {},
        body: JSON.stringify({
          stream,
          failed_record_count: outcome.failedCount,
          records: outcome.verdicts.map((verdict, i) => verdictBody(verdict, ids[i])),
        }),
      };
  }
}

function countOutcome(
  options: RecordsRouteOptions,
  stream: string,
  outcome: PutRecordsOutcome,
): void {
  if (options.onRecords === undefined) return;
  let retryable = 0;
  let failed = 0;
  for (const verdict of outcome.verdicts) {
    if (verdict.status === 'failed') {
      if (verdict.retryable) retryable += 1;
      else failed += 1;
    }
  }
  const written = outcome.verdicts.length - retryable - failed;
  if (written > 0) options.onRecords(stream, 'written', written);
  if (retryable > 0) options.onRecords(stream, 'failed_retryable', retryable);
  if (failed > 0) options.onRecords(stream, 'failed', failed);
}

function send(res: Response, answer: StoredAnswer): void {
  res.status(answer.status);
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  res.type('application/json').send(answer.body);
}

export function recordsRoute(options: RecordsRouteOptions): Router {
  const router = express.Router();
  const readBody = express.raw({ type: () => true, limit: options.limits.bodyLimitBytes });

  // The stream name is checked against DIS's rules before anything else is looked at.
  router.all(PATH, function checkStreamName(req: Request, res: Response, next: NextFunction) {
    res.locals.routeTemplate = PATH;
    if (!STREAM_NAME.test(streamParam(req))) throw new AppError('ERR_STREAM_NOT_FOUND');
    next();
  });

  router.post(
    PATH,
    async function authenticate(req: Request, res: Response, next: NextFunction) {
      const principal = await options.verifier.authenticate(req.headersDistinct.authorization);
      const stream = options.streams.get(streamParam(req));
      if (stream === undefined) throw new AppError('ERR_STREAM_NOT_FOUND');
      authorizeStream(principal, stream.name);
      res.locals.principal = principal;
      res.locals.stream = stream;
      next();
    },
    function checkMediaType(req: Request, _res: Response, next: NextFunction) {
      if (mediaKind(req.headers['content-type']) === undefined) {
        throw new AppError('ERR_HTTP_UNSUPPORTED_MEDIA_TYPE', {
          detail: 'Send application/json or application/x-ndjson (UTF-8)',
        });
      }
      next();
    },
    readBody,
    async function ingestRecords(req: Request, res: Response) {
      const { principal, stream } = res.locals;
      if (principal === undefined || stream === undefined) throw new AppError('ERR_INTERNAL');
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const parse =
        mediaKind(req.headers['content-type']) === 'ndjson' ? parseNdjsonRecords : parseJsonRecords;
      const records = parse(body, {
        maxRecords: options.limits.maxRecordsPerRequest,
        maxRecordBytes: options.limits.maxRecordBytes,
        maxDepth: options.limits.maxJsonDepth,
        partitions: stream.partitions,
        ...(stream.partitionKeyPointer === undefined
          ? {}
          : { partitionKeyPointer: stream.partitionKeyPointer }),
      });
      res.locals.recordCounts = { received: records.length, failed: 0 };

      const bytes = records.reduce((sum, r) => sum + r.data.length, 0);
      const decision = await options.rateLimiter.check({
        principal: principal.id,
        stream: stream.name,
        records: records.length,
        bytes,
      });
      for (const [name, value] of Object.entries(decision.headers)) res.setHeader(name, value);
      if (!decision.allowed) {
        throw new AppError('ERR_RATE_LIMITED', {
          detail: 'Slow down: this request would exceed a rate limit',
          headers: { 'Retry-After': retryAfterSeconds(decision.retryAfterMs) },
        });
      }

      const prefer = parsePrefer(req.headersDistinct.prefer);
      const waitMs = Math.min(
        prefer.waitS === undefined ? options.wait.defaultMs : prefer.waitS * 1000,
        options.wait.maxMs,
      );
      if (prefer.waitS !== undefined)
        res.setHeader('Preference-Applied', `wait=${Math.floor(waitMs / 1000)}`);

      const keys = req.headersDistinct['idempotency-key'];
      if (keys !== undefined && keys.length > 1) {
        throw new AppError('ERR_IDEMPOTENCY_KEY_INVALID', { detail: 'Send one Idempotency-Key' });
      }
      const key = keys?.[0];
      let handle: Awaited<ReturnType<IdempotencyStore['begin']>> | undefined;
      if (key !== undefined) {
        if (!isValidIdempotencyKey(key)) {
          throw new AppError('ERR_IDEMPOTENCY_KEY_INVALID', {
            detail: 'Idempotency-Key must be 1 to 255 printable ASCII characters',
          });
        }
        handle = await options.idempotency.begin({
          principal: principal.id,
          stream: stream.name,
          key,
          fingerprint: createHash('sha256')
            .update(req.headers['content-type'] ?? '')
            .update('\n')
            .update(body)
            .digest('hex'),
          lockTtlMs: waitMs + 10_000,
        });
        if (handle.kind === 'replay') {
          res.setHeader('Idempotent-Replayed', 'true');
          send(res, handle.answer);
          return;
        }
        if (handle.kind === 'in-progress') {
          throw new AppError('ERR_IDEMPOTENCY_IN_PROGRESS', {
            headers: { 'Retry-After': String(handle.retryAfterS) },
          });
        }
        if (handle.kind === 'mismatch') {
          throw new AppError('ERR_IDEMPOTENCY_MISMATCH', {
            detail: 'This Idempotency-Key was used with another body',
          });
        }
      }
      const started = handle?.kind === 'started' ? handle.handle : undefined;

      const { spool } = options;
      if (prefer.respondAsync && spool !== undefined) {
        let accepted: StoredAnswer;
        try {
          const { receiptId } = await spool.append({
            disStream: stream.disStream,
            ...(stream.streamId === undefined ? {} : { streamId: stream.streamId }),
            logicalStream: stream.name,
            owner: principal.id,
            records: records.map(toSpoolRecord),
          });
          accepted = {
            status: 202,
            headers: {
              Location: `/v1/receipts/${receiptId}`,
              'Preference-Applied': 'respond-async',
            },
            body: JSON.stringify({
              stream: stream.name,
              receipt: receiptId,
              accepted_record_count: records.length,
            }),
          };
        } catch (error) {
          if (started !== undefined) await options.idempotency.release(started);
          throw error;
        }
        if (started !== undefined) await options.idempotency.complete(started, accepted);
        options.onRecords?.(stream.name, 'spooled', records.length);
        send(res, accepted);
        return;
      }

      let answer: StoredAnswer | AppError;
      try {
        const outcome = await options.ingest.ingest(
          { name: stream.name, disStream: stream.disStream, streamId: stream.streamId },
          records,
          options.now() + waitMs,
        );
        res.locals.recordCounts = { received: records.length, failed: outcome.failedCount };
        countOutcome(options, stream.name, outcome);
        answer = answerFor(
          stream.name,
          outcome,
          records.map((r) => r.id),
        );
      } catch (error) {
        if (started !== undefined) await options.idempotency.release(started);
        const unavailable = ingestUnavailable(error);
        if (unavailable !== undefined) throw unavailable;
        throw error;
      }
      if (answer instanceof AppError) {
        // Nothing was written: a retry with the same key must run again, not replay the failure.
        if (started !== undefined) await options.idempotency.release(started);
        throw answer;
      }
      if (started !== undefined) await options.idempotency.complete(started, answer);
      send(res, answer);
    },
  );

  router.all(PATH, function methodNotAllowed(_req: Request, res: Response) {
    res.setHeader('Allow', 'POST');
    throw new AppError('ERR_HTTP_METHOD_NOT_ALLOWED', { headers: { Allow: 'POST' } });
  });

  return router;
}

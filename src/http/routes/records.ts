import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { TokenVerifier } from '../../auth/jwt-verifier.ts';
import { authorizeStream, type Principal } from '../../auth/principal.ts';
import type { PutRecordsOutcome, RecordVerdict } from '../../dis/client.ts';
import { STREAM_NAME } from '../../dis/wire.ts';
import { AppError } from '../../errors/app-error.ts';
import type { JsonPointer } from '../../json/pointer.ts';
import type { IdempotencyHandle, IdempotencyStore, StoredAnswer } from '../../idempotency/types.ts';
import { isValidIdempotencyKey } from '../../idempotency/key.ts';
import type { Ingest } from '../../ingest/ingest.ts';
import { waitUntil } from '../../ingest/deadline.ts';
import {
  classifyOutcome,
  countPossiblyWritten,
  countUnknown,
  type OutcomeClass,
} from '../../ingest/outcome.ts';
import type { RateLimiter } from '../../ratelimit/types.ts';
import type { IngestRecord } from '../../ingest/records.ts';
import { toSpoolRecord } from '../../spool/entry.ts';
import { SpoolAppendError, type Spool } from '../../spool/spool.ts';
import { parseJsonRecords, parseNdjsonRecords } from '../parse/records-body.ts';
import { ingestUnavailable } from '../ingest-errors.ts';
import { parsePrefer } from '../prefer.ts';

export interface RecordsStream {
  readonly name: string;
  readonly disStream: string;
  readonly streamId?: string | undefined;
  readonly partitions: number;
  readonly partitionKeyPointer?: JsonPointer | undefined;
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
  /**
   * Deadline for DIS retries when the caller sends no `Prefer: wait`, and the cap on it;
   * `lateAnswerMs`: how long a DIS call in flight at the deadline may still run (its request
   * timeout), which an idempotency lock must outlast.
   */
  readonly wait: {
    readonly defaultMs: number;
    readonly maxMs: number;
    readonly lateAnswerMs: number;
  };
  /** Work that goes on after the answer (a DIS call settling after a 504); close() awaits it. */
  readonly background: (task: Promise<void>) => void;
  readonly outcomes?: OutcomeEvents | undefined;
}

/** What happened to records whose answer did not tell the whole story. */
export interface OutcomeEvents {
  /** Records DIS may hold twice: their caller was not told they were written, or could not be. */
  readonly possibleDuplicates?: (count: number) => void;
  /** A DIS call that outlived its caller's deadline has settled. */
  readonly late?: (event: {
    readonly stream: string;
    readonly outcome: OutcomeClass['kind'];
    readonly records: number;
    readonly idempotent: boolean;
  }) => void;
  /** A verdict could not be stored under its Idempotency-Key (after DIS had answered). */
  readonly verdictNotStored?: (error: unknown) => void;
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
        detail: outcome.verdicts.every(
          (v) => v.status === 'failed' && v.errorCode === 'ERR_DIS_NOT_SENT',
        )
          ? 'The wait ended before the records could be sent; nothing was written'
          : 'DIS cannot be reached; nothing was written',
        headers: { 'Retry-After': retryAfterSeconds(cls.retryAfterMs) },
      });
    case 'unknown':
      return cls.reason === 'unreadable'
        ? new AppError('ERR_DIS_BAD_GATEWAY', {
            detail:
              'DIS answered in a way the gateway cannot read; the records may have been written',
          })
        : new AppError('ERR_DIS_TIMEOUT', {
            detail: 'DIS did not answer in time; the records may or may not have been written',
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
      let started: IdempotencyHandle | undefined;
      if (key !== undefined) {
        if (!isValidIdempotencyKey(key)) {
          throw new AppError('ERR_IDEMPOTENCY_KEY_INVALID', {
            detail: 'Idempotency-Key must be 1 to 255 printable ASCII characters',
          });
        }
        const begun = await options.idempotency.begin({
          principal: principal.id,
          stream: stream.name,
          key,
          fingerprint: createHash('sha256')
            .update(req.headers['content-type'] ?? '')
            .update('\n')
            .update(body)
            .digest('hex'),
          // Held until the verdict is stored, also when it comes from a DIS call that outlives
          // the caller's wait; after that a retry may run again.
          lockTtlMs: waitMs + options.wait.lateAnswerMs + 10_000,
        });
        if (begun.kind === 'replay') {
          res.setHeader('Idempotent-Replayed', 'true');
          send(res, begun.answer);
          return;
        }
        if (begun.kind === 'in-progress') {
          throw new AppError('ERR_IDEMPOTENCY_IN_PROGRESS', {
            headers: { 'Retry-After': String(begun.retryAfterS) },
          });
        }
        if (begun.kind === 'mismatch') {
          throw new AppError('ERR_IDEMPOTENCY_MISMATCH', {
            detail: 'This Idempotency-Key was used with another body',
          });
        }
        started = begun.handle;
      }

      if (prefer.respondAsync && options.spool !== undefined) {
        send(res, await spoolRecords(options.spool, principal, stream, records, started));
        return;
      }

      const deadline = options.now() + waitMs;
      const ids = records.map((r) => r.id);
      let timely;
      try {
        timely = await waitUntil(
          options.ingest.ingest(
            { name: stream.name, disStream: stream.disStream, streamId: stream.streamId },
            records,
            deadline,
          ),
          deadline,
          options.now,
        );
      } catch (error) {
        // Refused before anything was sent (breaker open, batcher full): nothing was written.
        if (started !== undefined) await release(started);
        const unavailable = ingestUnavailable(error);
        if (unavailable !== undefined) throw unavailable;
        throw error;
      }
      if (timely.late) {
        // The call goes on to its request timeout; what it settles is the key's verdict.
        options.background(settleLate(timely.pending, stream.name, ids, started));
        throw new AppError('ERR_DIS_TIMEOUT', {
          detail:
            started === undefined
              ? 'DIS did not answer within the wait; the records may still be written'
              : 'DIS did not answer within the wait; the records may still be written, and a retry with the same Idempotency-Key gets their verdict once DIS has answered',
        });
      }
      const outcome = timely.value;
      res.locals.recordCounts = { received: records.length, failed: outcome.failedCount };
      const answer = await settleOutcome(outcome, stream.name, ids, started, true);
      if (answer instanceof AppError) throw answer;
      send(res, answer);
    },
  );

  /**
   * What a DIS outcome settles, whether the caller is still waiting (`answering`) or was told 504:
   * metrics, records that may now be in DIS twice, and the key. A retry with the same key must run
   * again, not replay a failure, but only when nothing can have been written: an unknown outcome
   * keeps the key locked until its lock expires. Returns the answer for the caller.
   */
  async function settleOutcome(
    outcome: PutRecordsOutcome,
    stream: string,
    ids: readonly (string | undefined)[],
    handle: IdempotencyHandle | undefined,
    answering: boolean,
  ): Promise<StoredAnswer | AppError> {
    countOutcome(options, stream, outcome);
    possibleDuplicates(countUnknown(outcome));
    const answer = answerFor(stream, outcome, ids);
    if (handle === undefined) return answer;
    if (!(answer instanceof AppError)) {
      await storeVerdict(handle, answer, countPossiblyWritten(outcome), answering);
    } else if (classifyOutcome(outcome).kind !== 'unknown') {
      await release(handle);
    }
    return answer;
  }

  function possibleDuplicates(count: number): void {
    if (count > 0) options.outcomes?.possibleDuplicates?.(count);
  }

  /** Best effort: a lock that cannot be released expires by itself. */
  async function release(handle: IdempotencyHandle): Promise<void> {
    await options.idempotency.release(handle).catch(() => undefined);
  }

  /**
   * Stores the verdict under the key. When that fails after DIS wrote records, the caller hears
   * so (503: a retry with the key replays the verdict once stored, or may write them again) and
   * the records count as possible duplicates; a Redis error (not a replica that was too slow,
   * whose primary already holds the verdict) is retried in the background for a few seconds so
   * that the retry finds the verdict rather than the lock.
   */
  async function storeVerdict(
    handle: IdempotencyHandle,
    answer: StoredAnswer,
    written: number,
    answering: boolean,
  ): Promise<void> {
    try {
      await options.idempotency.complete(handle, answer);
      return;
    } catch (error) {
      options.outcomes?.verdictNotStored?.(error);
      possibleDuplicates(written);
      const code = error instanceof AppError ? error.code : 'ERR_REDIS_UNAVAILABLE';
      if (code === 'ERR_REDIS_UNAVAILABLE') options.background(retryVerdict(handle, answer));
      if (!answering) return;
      throw new AppError(
        code === 'ERR_REDIS_REPLICATION_TIMEOUT' ? code : 'ERR_REDIS_UNAVAILABLE',
        {
          detail:
            answer.status === 202
              ? 'The records were spooled, but the receipt could not be stored durably for this Idempotency-Key; a retry with the same key replays it once stored, or may spool them again'
              : 'DIS answered, but its verdict could not be stored durably for this Idempotency-Key; a retry with the same key replays it once stored, or may write the records again',
          headers: { 'Retry-After': '1' },
          cause: error,
        },
      );
    }
  }

  async function retryVerdict(handle: IdempotencyHandle, answer: StoredAnswer): Promise<void> {
    for (const delayMs of [250, 1000, 3000]) {
      await sleep(delayMs);
      try {
        await options.idempotency.complete(handle, answer);
        return;
      } catch {
        // Tried again after the next delay; the lock expires after the last.
      }
    }
  }

  /** A DIS call that outlived its caller's wait: its outcome settles the key, metrics and logs. */
  async function settleLate(
    pending: Promise<PutRecordsOutcome>,
    stream: string,
    ids: readonly (string | undefined)[],
    handle: IdempotencyHandle | undefined,
  ): Promise<void> {
    let outcome: PutRecordsOutcome;
    try {
      outcome = await pending;
    } catch {
      // Refused before it was sent (the batcher's queue, the breaker): nothing was written.
      if (handle !== undefined) await release(handle);
      return;
    }
    options.outcomes?.late?.({
      stream,
      outcome: classifyOutcome(outcome).kind,
      records: outcome.verdicts.length,
      idempotent: handle !== undefined,
    });
    // Without a key the caller, told 504, may send what DIS wrote again (the unknown ones are
    // counted in settleOutcome).
    if (handle === undefined)
      possibleDuplicates(countPossiblyWritten(outcome) - countUnknown(outcome));
    await settleOutcome(outcome, stream, ids, handle, false);
  }

  async function spoolRecords(
    spool: Spool,
    principal: Principal,
    stream: RecordsStream,
    records: readonly IngestRecord[],
    handle: IdempotencyHandle | undefined,
  ): Promise<StoredAnswer> {
    let receiptId: string;
    try {
      ({ receiptId } = await spool.append({
        disStream: stream.disStream,
        ...(stream.streamId === undefined ? {} : { streamId: stream.streamId }),
        logicalStream: stream.name,
        owner: principal.id,
        records: records.map(toSpoolRecord),
      }));
    } catch (error) {
      if (error instanceof SpoolAppendError && !error.mayHaveWritten) {
        // Nothing is in the spool (full, refused before sending): the retry must run again.
        if (handle !== undefined) await release(handle);
      } else {
        // Perhaps in the spool (on the primary, unconfirmed; or a timeout after it ran): the key
        // stays locked until it expires, and the sender's retry after that may add a copy.
        possibleDuplicates(records.length);
      }
      throw error;
    }
    const accepted: StoredAnswer = {
      status: 202,
      headers: { Location: `/v1/receipts/${receiptId}`, 'Preference-Applied': 'respond-async' },
      body: JSON.stringify({
        stream: stream.name,
        receipt: receiptId,
        accepted_record_count: records.length,
      }),
    };
    options.onRecords?.(stream.name, 'spooled', records.length);
    if (handle !== undefined) await storeVerdict(handle, accepted, records.length, true);
    return accepted;
  }

  router.all(PATH, function methodNotAllowed(_req: Request, res: Response) {
    res.setHeader('Allow', 'POST');
    throw new AppError('ERR_HTTP_METHOD_NOT_ALLOWED', { headers: { Allow: 'POST' } });
  });

  return router;
}

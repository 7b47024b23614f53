import { InvariantError } from '../../errors/coded-error.ts';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { TokenVerifier } from '../../auth/jwt-verifier.ts';
import { authorizeStream } from '../../auth/principal.ts';
import { STREAM_NAME } from '../../dis/wire.ts';
import { AppError } from '../../errors/app-error.ts';
import type { AcceptRecords, RecordsClaim, RecordsResult } from '../../ingest/accept-records.ts';
import type { IngestRecord } from '../../ingest/records.ts';
import type { JsonPointer } from '../../json/pointer.ts';
import type { RateLimiter } from '../../ratelimit/types.ts';
import { authenticate, principalOf } from '../middleware/authenticate.ts';
import { idempotencyFingerprint, idempotencyKey } from '../middleware/idempotency.ts';
import {
  arrivalGate,
  chargeRefused,
  rateLimit,
  type ArrivalRefusals,
} from '../middleware/rate-limit.ts';
import { parseJsonRecords, parseNdjsonRecords } from '../parse/records-body.ts';
import { parsePrefer } from '../prefer.ts';
import { recordsAnswer } from '../records-answers.ts';
import { createRouter, methodNotAllowed } from '../router.ts';

// POST /v1/streams/{stream}/records: authenticate → authorize → media type, Prefer and
// Idempotency-Key headers → arrival gate (a caller known to be over its limit: 429 before the body
// is read) → body → Idempotency-Key settled (a stored verdict is replayed before any parse or
// charge) → parse → rate limit (request, records, bytes: one Redis call) → accept (ingest) → the
// answer for what became of the records. A request refused after its body was read is charged
// one request and its bytes; one that ends before its records are handed off frees its key.

export interface RecordsStream {
  readonly name: string;
  readonly disStream: string;
  readonly streamId?: string | undefined;
  /** Its DIS target's config name (ingest routes by it). */
  readonly disTarget?: string | undefined;
  readonly partitions: number;
  readonly partitionKeyPointer?: JsonPointer | undefined;
  readonly ordering?: 'per_key' | undefined;
}

export interface RecordsRouteOptions {
  readonly streams: ReadonlyMap<string, RecordsStream>;
  readonly verifier: TokenVerifier;
  /** Charges a request; its decisions teach `arrival`. */
  readonly rateLimiter: RateLimiter;
  readonly arrival: ArrivalRefusals;
  /** `Prefer: respond-async` is honoured where ingest has a spool; else answers are sync. */
  readonly acceptRecords: AcceptRecords;
  readonly limits: {
    readonly bodyLimitBytes: number;
    readonly maxRecordsPerRequest: number;
    readonly maxRecordBytes: number;
    readonly maxJsonDepth: number;
  };
  /** Deadline for DIS retries when the caller sends no `Prefer: wait`, and the cap on it. */
  readonly wait: { readonly defaultMs: number; readonly maxMs: number };
}

declare module 'express-serve-static-core' {
  interface Locals {
    stream?: RecordsStream;
    mediaKind?: 'json' | 'ndjson';
    records?: readonly IngestRecord[];
    /** Raw data bytes of `records`: what the limiter charges and the batcher bounds. */
    recordBytes?: number;
    /** From `Prefer`: how long the caller waits for DIS, and whether it asked for a receipt. */
    preferences?: { readonly waitMs: number; readonly respondAsync: boolean };
    /** From the body's read on, a refusal is charged (chargeRefused); not an Idempotency-Key's answer. */
    chargeOnRefusal?: boolean;
    /** The request's claim on its Idempotency-Key (or none): accepted or abandoned once. */
    claim?: RecordsClaim;
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
  // What nearly every caller sends, without splitting it.
  if (header === 'application/json') return 'json';
  if (header === 'application/x-ndjson') return 'ndjson';
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

function streamOf(res: Response): RecordsStream {
  const { stream } = res.locals;
  if (stream === undefined)
    throw new InvariantError('authorizeWrite() did not run before this handler');
  return stream;
}

function answer(res: Response, result: RecordsResult): void {
  if (result.kind === 'replayed') res.setHeader('Idempotent-Replayed', 'true');
  const stored = recordsAnswer(result);
  if (stored instanceof AppError) throw stored;
  res.status(stored.status);
  for (const [name, value] of Object.entries(stored.headers)) res.setHeader(name, value);
  res.type('application/json').send(stored.body);
}

export function recordsRoute(options: RecordsRouteOptions): Router {
  const router = createRouter();
  const readBody = express.raw({ type: () => true, limit: options.limits.bodyLimitBytes });

  // The stream name is checked against DIS's rules before anything else is looked at.
  router.all(PATH, function checkStreamName(req: Request, res: Response, next: NextFunction) {
    res.locals.routeTemplate = PATH;
    if (!STREAM_NAME.test(streamParam(req))) throw new AppError('ERR_STREAM_NOT_FOUND');
    next();
  });

  const who = (res: Response) => ({ principal: principalOf(res).id, stream: streamOf(res).name });
  const gate = arrivalGate(options.arrival, who);
  const preferencesOf = (res: Response) =>
    res.locals.preferences ?? { waitMs: options.wait.defaultMs, respondAsync: false };

  router.post(
    PATH,
    authenticate(options.verifier),
    function authorizeWrite(req: Request, res: Response, next: NextFunction) {
      const stream = options.streams.get(streamParam(req));
      if (stream === undefined) throw new AppError('ERR_STREAM_NOT_FOUND');
      authorizeStream(principalOf(res), stream.name);
      res.locals.stream = stream;
      next();
    },
    function checkMediaType(req: Request, res: Response, next: NextFunction) {
      const kind = mediaKind(req.headers['content-type']);
      if (kind === undefined) {
        throw new AppError('ERR_HTTP_UNSUPPORTED_MEDIA_TYPE', {
          detail: 'Send application/json or application/x-ndjson (UTF-8)',
        });
      }
      res.locals.mediaKind = kind;
      next();
    },
    function readPreferences(req: Request, res: Response, next: NextFunction) {
      const prefer = parsePrefer(req.headersDistinct.prefer);
      const waitMs = Math.min(
        prefer.waitS === undefined ? options.wait.defaultMs : prefer.waitS * 1000,
        options.wait.maxMs,
      );
      if (prefer.waitS !== undefined)
        res.setHeader('Preference-Applied', `wait=${Math.floor(waitMs / 1000)}`);
      res.locals.preferences = { waitMs, respondAsync: prefer.respondAsync };
      next();
    },
    idempotencyKey(),
    // A keyed request may have a verdict to replay: the gate asks only once the key is settled.
    function gateUnkeyed(req: Request, res: Response, next: NextFunction) {
      res.locals.chargeOnRefusal = true;
      if (res.locals.idempotencyKey === undefined) gate(req, res, next);
      else next();
    },
    readBody,
    idempotencyFingerprint(),
    async function settleIdempotencyKey(_req: Request, res: Response, next: NextFunction) {
      const begun = await options.acceptRecords.begin({
        principal: principalOf(res).id,
        stream: streamOf(res),
        mode: preferencesOf(res).respondAsync ? 'async' : 'sync',
        waitMs: preferencesOf(res).waitMs,
        idempotency: res.locals.idempotency,
        trace: res.locals.trace,
      });
      if (begun.kind !== 'claimed') {
        // Replays, conflicts and mismatches are the key's answers, charged to no bucket.
        res.locals.chargeOnRefusal = false;
        answer(res, begun);
        return;
      }
      res.locals.claim = begun.claim;
      if (res.locals.idempotency === undefined) next();
      else gate(_req, res, next);
    },
    function parseRecords(req: Request, res: Response, next: NextFunction) {
      const stream = streamOf(res);
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const parse = res.locals.mediaKind === 'ndjson' ? parseNdjsonRecords : parseJsonRecords;
      const records = parse(body, {
        maxRecords: options.limits.maxRecordsPerRequest,
        maxRecordBytes: options.limits.maxRecordBytes,
        maxDepth: options.limits.maxJsonDepth,
        partitions: stream.partitions,
        ...(stream.partitionKeyPointer === undefined
          ? {}
          : { partitionKeyPointer: stream.partitionKeyPointer }),
      });
      res.locals.records = records;
      let bytes = 0;
      for (const record of records) bytes += record.data.length;
      res.locals.recordBytes = bytes;
      res.locals.recordCounts = { received: records.length, failed: 0 };
      next();
    },
    rateLimit(options.rateLimiter, (res) => ({
      ...who(res),
      records: res.locals.records?.length ?? 0,
      bytes: res.locals.recordBytes ?? 0,
    })),
    async function acceptRecords(_req: Request, res: Response) {
      const { claim } = res.locals;
      if (claim === undefined)
        throw new InvariantError('settleIdempotencyKey() did not run before this handler');
      const records = res.locals.records ?? [];
      const result = await claim.accept(records, res.locals.recordBytes ?? 0);
      if ('failedCount' in result)
        res.locals.recordCounts = { received: records.length, failed: result.failedCount };
      answer(res, result);
    },
    chargeRefused(
      options.rateLimiter,
      (res) => (res.locals.chargeOnRefusal === true ? who(res) : undefined),
      options.limits.bodyLimitBytes,
    ),
    async function abandonClaim(error: unknown, _req: Request, res: Response, next: NextFunction) {
      await res.locals.claim?.abandon();
      next(error);
    },
  );

  router.all(PATH, methodNotAllowed('POST'));

  return router;
}

import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Principal } from '../../auth/principal.ts';
import { mayWrite } from '../../auth/principal.ts';
import {
  decodePutRecordsRequest,
  encodePutRecordsResult,
  ProtobufDecodeError,
} from '../../dis/protobuf.ts';
import { parsePartitionId } from '../../dis/wire.ts';
import { InvariantError } from '../../errors/coded-error.ts';
import { acceptNow, type AcceptRecords, type RecordsResult } from '../../ingest/accept-records.ts';
import type { RateLimiter } from '../../ratelimit/types.ts';
import { principalOf } from '../middleware/authenticate.ts';
import type { ArrivalRefusals } from '../middleware/rate-limit.ts';
import type { RecordsStream } from '../routes/records.ts';
import { createRouter } from '../router.ts';
import { retryAfterSeconds } from '../retry-after.ts';
import { authenticateHeaders, verifySignature, type FrontdoorAuthOptions } from './authenticate.ts';
import {
  DisAnswerError,
  disErrorBody,
  invalidRequest,
  putResultJson,
  systemError,
  throttledResult,
  type DisPutResult,
} from './dis-answers.ts';
import {
  checkPutRecords,
  parsePutRecordsJson,
  tooManyRecords,
  type ArrivedPutRecords,
} from './put-records-body.ts';
import { CatalogError, type StreamCatalog } from '../../ingest/stream-catalog.ts';

// The DIS-compatible front door (README "DIS-compatible front door"): DIS's own paths and shapes, so
// that a producer written against DIS (its SDKs, DIS Agent, the Flume/Logstash plugins) moves behind
// the gateway by changing its endpoint and AK/SK. Write-only: PutRecords, and DescribeStream and
// ListStreams, which the SDKs call before writing. Everything else under /v2/ is refused in DIS's
// words. Records go through the same application layer as /v1 (limits, batching, retries, breaker);
// what the gateway refuses for its limits comes back per record as DIS.4303, which every SDK retries.

export interface FrontdoorRouteOptions {
  readonly auth: FrontdoorAuthOptions;
  /** The DIS projects the gateway writes to: the only `{project_id}`s accepted. */
  readonly projectIds: ReadonlySet<string>;
  /** The project a stream's records go to: under another `{project_id}` it does not exist. */
  readonly projectOf: (stream: RecordsStream) => string;
  /** By DIS stream name and by DIS stream id: the logical streams that write there. */
  readonly streams: ReadonlyMap<string, RecordsStream>;
  readonly rateLimiter: RateLimiter;
  readonly arrival: ArrivalRefusals;
  /** Renders DIS's PutRecords JSON. */
  readonly acceptRecords: AcceptRecords;
  readonly catalog: StreamCatalog;
  readonly limits: {
    readonly bodyLimitBytes: number;
    readonly maxRecordsPerRequest: number;
    readonly maxRecordBytes: number;
  };
  readonly waitMs: number;
  /** Records refused per record as DIS.4303, by why. */
  readonly onThrottled?:
    ((reason: 'rate-limit' | 'overloaded' | 'not-sent', records: number) => void) | undefined;
}

const RECORDS = '/v2/:projectId/records{/}';
const STREAMS = '/v2/:projectId/streams{/}';
const STREAM = '/v2/:projectId/streams/:streamName{/}';
const ANY = '/v2/*rest';

type BodyKind = 'json' | 'protobuf';

function bodyKind(header: string | undefined): BodyKind | undefined {
  if (header === undefined) return undefined;
  const [type = '', ...params] = header.split(';').map((part) => part.trim().toLowerCase());
  for (const param of params) {
    const [name, value = ''] = param.split('=');
    if (name === 'charset' && value.replace(/"/g, '') !== 'utf-8') return undefined;
  }
  if (type === 'application/json') return 'json';
  if (type === 'application/x-protobuf') return 'protobuf';
  return undefined;
}

function param(req: Request, name: string): string {
  const value = req.params[name];
  return typeof value === 'string' ? value : '';
}

function send(res: Response, status: number, contentType: string, body: string | Buffer): void {
  res.status(status).type(contentType).send(body);
}

function sendResult(res: Response, kind: BodyKind, result: DisPutResult): void {
  if (kind === 'protobuf') {
    const records = result.records.map((r) =>
      'error_code' in r
        ? { errorCode: r.error_code, errorMessage: r.error_message }
        : { shardId: r.partition_id, sequenceNumber: r.sequence_number },
    );
    send(
      res,
      200,
      'application/x-protobuf',
      encodePutRecordsResult({ failedRecordCount: result.failedCount, records }),
    );
  } else send(res, 200, 'application/json', putResultJson(result));
}

/** May this principal write to one of the logical streams behind a DIS stream? */
function writableStream(
  principal: Principal,
  candidates: readonly RecordsStream[] | undefined,
  shown: string,
): RecordsStream {
  if (candidates === undefined || candidates.length === 0)
    throw new DisAnswerError(400, 'DIS.4301', `The stream does not exist. [${shown}]`);
  const stream = candidates.find((candidate) => mayWrite(principal, candidate.name));
  if (stream !== undefined) return stream;
  throw new DisAnswerError(
    403,
    'DIS.4116',
    `Invalid RBAC. [this client may not write to ${shown}]`,
  );
}

/** The whole-request answers: nothing was written, or nobody knows. */
function resultError(result: RecordsResult): DisAnswerError {
  switch (result.kind) {
    case 'unavailable':
      return systemError(503, 'DIS cannot be reached through the gateway; nothing was written', {
        'Retry-After': retryAfterSeconds(result.retryAfterMs),
      });
    case 'unknown':
      return systemError(
        504,
        'DIS did not answer in time; the records may or may not have been written',
      );
    case 'upstream-error':
      return systemError(502, 'DIS refused the gateway’s request; nothing was written');
    case 'not-stored':
    case 'accepted':
    case 'replayed':
    case 'in-progress':
    case 'mismatch':
    case 'written':
    case 'partial':
      // Front-door calls carry no Idempotency-Key and are sync: none of these can come back here.
      throw new InvariantError(`the front door got a ${result.kind} result`);
  }
}

export function frontdoorRoute(options: FrontdoorRouteOptions): Router {
  const router = createRouter();
  const byName = new Map<string, RecordsStream[]>();
  const byId = new Map<string, RecordsStream[]>();
  for (const stream of options.streams.values()) {
    byName.set(stream.disStream, [...(byName.get(stream.disStream) ?? []), stream]);
    if (stream.streamId !== undefined)
      byId.set(stream.streamId, [...(byId.get(stream.streamId) ?? []), stream]);
  }
  const readBody = express.raw({
    type: () => true,
    limit: options.limits.bodyLimitBytes,
    inflate: false,
  });
  const auth = [authenticateHeaders(options.auth), readBody, verifySignature(options.auth)];

  function template(path: string) {
    return function frontdoorTemplate(_req: Request, res: Response, next: NextFunction) {
      res.locals.routeTemplate = path;
      next();
    };
  }

  /** The logical streams behind a DIS stream name or id in the request's project. */
  const inProject = (req: Request, candidates: readonly RecordsStream[] | undefined) =>
    candidates?.filter((stream) => options.projectOf(stream) === param(req, 'projectId'));

  function checkProject(req: Request, _res: Response, next: NextFunction) {
    const header = req.headers['x-project-id'];
    const project = param(req, 'projectId');
    if (!options.projectIds.has(project) || (header !== undefined && header !== project))
      throw new DisAnswerError(
        400,
        'DIS.4117',
        'Invalid Project Id. [not the project this gateway writes to]',
      );
    next();
  }

  function noEncoding(req: Request, _res: Response, next: NextFunction) {
    const coding = req.headers['content-encoding'];
    if (coding !== undefined && coding.trim().toLowerCase() !== 'identity')
      throw invalidRequest(
        'The gateway takes uncompressed bodies only; turn body compression off (java-dis: body.compress.enabled=false)',
        415,
      );
    next();
  }

  router.post(
    RECORDS,
    template(RECORDS),
    authenticateHeaders(options.auth),
    noEncoding,
    readBody,
    verifySignature(options.auth),
    checkProject,
    async function putRecords(req: Request, res: Response) {
      const kind = bodyKind(req.headers['content-type']);
      if (kind === undefined)
        throw invalidRequest('Send application/json or application/x-protobuf (UTF-8)', 415);
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const limits = {
        maxRecords: options.limits.maxRecordsPerRequest,
        maxRecordBytes: options.limits.maxRecordBytes,
      };
      let arrived: ArrivedPutRecords;
      if (kind === 'json') arrived = parsePutRecordsJson(body, limits);
      else {
        try {
          arrived = decodePutRecordsRequest(body, { maxRecords: limits.maxRecords });
        } catch (error) {
          if (!(error instanceof ProtobufDecodeError)) throw error;
          if (error.reason === 'too many records')
            throw tooManyRecords(limits.maxRecords + 1, limits.maxRecords);
          throw invalidRequest(`The body is not a PutRecordsRequest (${error.reason})`);
        }
      }
      const checked = checkPutRecords(arrived, limits);
      const principal = principalOf(res);
      // DIS looks the stream up by name, and by id when the name finds none (dis-api.md §2.1).
      const { streamName, streamId } = checked;
      const named = streamName === undefined ? undefined : inProject(req, byName.get(streamName));
      const byStreamId = streamId === undefined ? undefined : inProject(req, byId.get(streamId));
      const stream =
        (named === undefined || named.length === 0) &&
        byStreamId !== undefined &&
        byStreamId.length > 0
          ? writableStream(principal, byStreamId, streamId ?? '')
          : writableStream(principal, named, streamName ?? streamId ?? '');
      const count = checked.records.length;
      res.locals.stream = stream;
      res.locals.recordCounts = { received: count, failed: 0 };
      const throttled = (reason: 'rate-limit' | 'overloaded' | 'not-sent') => {
        options.onThrottled?.(reason, count);
        res.locals.recordCounts = { received: count, failed: count };
        sendResult(res, kind, throttledResult(count));
      };
      if (options.arrival.refusal(principal.id, stream.name) !== undefined) {
        throttled('rate-limit');
        return;
      }
      let decision;
      try {
        decision = await options.rateLimiter.check({
          principal: principal.id,
          stream: stream.name,
          records: count,
          bytes: checked.bytes,
        });
      } catch {
        throw systemError(503, 'The gateway cannot check its rate limits; nothing was written', {
          'Retry-After': '1',
        });
      }
      for (const [name, value] of Object.entries(decision.headers)) res.setHeader(name, value);
      if (!decision.allowed) {
        throttled('rate-limit');
        return;
      }
      const result = await acceptNow(options.acceptRecords, {
        principal: principal.id,
        stream,
        mode: 'sync',
        waitMs: options.waitMs,
        records: checked.records,
        bytes: checked.bytes,
        trace: res.locals.trace,
      });
      if (result.kind === 'written' || result.kind === 'partial') {
        res.locals.recordCounts = { received: count, failed: result.failedCount };
        if (kind === 'json') send(res, 200, 'application/json', result.answer.body);
        else {
          // The render writes DIS's JSON (an answer is text, as an Idempotency-Key stores it);
          // a protobuf caller gets the same result re-encoded.
          const answer = JSON.parse(result.answer.body) as {
            failed_record_count: number;
            records: DisPutResult['records'];
          };
          sendResult(res, kind, {
            failedCount: answer.failed_record_count,
            records: answer.records,
          });
        }
        return;
      }
      // Nothing was sent because the gateway's queue or the caller's wait ran out: backpressure.
      if (
        result.kind === 'unavailable' &&
        (result.reason === 'not-sent' || result.reason === 'overloaded')
      ) {
        throttled(result.reason);
        return;
      }
      throw resultError(result);
    },
  );

  router.get(
    STREAMS,
    template(STREAMS),
    ...auth,
    checkProject,
    async function listStreams(req: Request, res: Response) {
      const principal = principalOf(res);
      const limit = Number(req.query.limit ?? 10);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100)
        throw invalidRequest('limit must be an integer from 1 to 100');
      const start =
        typeof req.query.start_stream_name === 'string' ? req.query.start_stream_name : undefined;
      const names = [...byName.entries()]
        .filter(([name, candidates]) => {
          try {
            writableStream(principal, inProject(req, candidates), name);
            return true;
          } catch {
            return false;
          }
        })
        .map(([name]) => name);
      try {
        send(
          res,
          200,
          'application/json',
          JSON.stringify(await options.catalog.list(names, { limit, startStreamName: start })),
        );
      } catch (error) {
        throw catalogError(error);
      }
    },
  );

  router.get(
    STREAM,
    template(STREAM),
    ...auth,
    checkProject,
    async function describeStream(req: Request, res: Response) {
      const name = param(req, 'streamName');
      writableStream(principalOf(res), inProject(req, byName.get(name)), name);
      const limitText = req.query.limit_partitions;
      const limit = limitText === undefined ? undefined : Number(limitText);
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 1000))
        throw invalidRequest('limit_partitions must be an integer from 1 to 1000');
      // python-dis sends an empty start_partitionId: no start.
      const startQuery = req.query.start_partitionId;
      const startText =
        typeof startQuery === 'string' && startQuery !== '' ? startQuery : undefined;
      const startIndex = startText === undefined ? undefined : parsePartitionId(startText);
      if (
        (startQuery !== undefined && typeof startQuery !== 'string') ||
        (startText !== undefined && startIndex === undefined)
      )
        throw invalidRequest('start_partitionId must be a partition id like shardId-0000000003');
      // One form for each partition: a cache key per partition, not per spelling.
      const start =
        startIndex === undefined ? undefined : `shardId-${String(startIndex).padStart(10, '0')}`;
      try {
        const described = await options.catalog.describe(name, {
          ...(start === undefined ? {} : { startPartitionId: start }),
          ...(limit === undefined ? {} : { limitPartitions: limit }),
        });
        send(res, 200, 'application/json', JSON.stringify(described));
      } catch (error) {
        throw catalogError(error);
      }
    },
  );

  // Write-only: reading, cursors, stream management, apps and checkpoints stay with DIS.
  router.all(ANY, template('/v2/*'), ...auth, function writeOnly(req: Request) {
    throw invalidRequest(
      `The gateway accepts writes only (PutRecords, DescribeStream, ListStreams); ${req.method} ${req.path} goes to DIS itself`,
      req.method === 'GET' || req.method === 'POST' ? 400 : 405,
    );
  });

  router.use(function frontdoorErrors(
    error: unknown,
    _req: Request,
    res: Response,
    next: NextFunction,
  ) {
    const answer = toDisAnswer(error);
    if (answer === undefined) {
      next(error);
      return;
    }
    for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
    if (answer.status === 413 || answer.status === 415) res.setHeader('Connection', 'close');
    send(res, answer.status, 'application/json', disErrorBody(answer));
  });

  return router;
}

/** A failed DescribeStream in DIS's words: DIS's own refusal of the stream as it is, ours otherwise. */
function catalogError(error: unknown): unknown {
  if (!(error instanceof CatalogError)) return error;
  switch (error.kind) {
    case 'refused':
      return new DisAnswerError(
        400,
        error.disCode ?? 'DIS.4200',
        error.disMessage ?? error.message,
      );
    case 'credentials':
      return systemError(502, 'DIS refused the gateway’s own credentials');
    case 'unavailable':
      return systemError(503, 'DIS cannot be reached through the gateway', { 'Retry-After': '1' });
  }
}

/** Our own answers, and body-reading failures in DIS's words; anything else is unexpected. */
function toDisAnswer(error: unknown): DisAnswerError | undefined {
  if (error instanceof DisAnswerError) return error;
  if (typeof error === 'object' && error !== null && 'type' in error) {
    const type = (error as { type?: unknown }).type;
    if (type === 'entity.too.large')
      return invalidRequest('The body is larger than the gateway takes', 413);
    if (type === 'request.aborted') return invalidRequest('The body ended early');
    if (type === 'request.size.invalid')
      return invalidRequest('The body does not match its Content-Length');
  }
  return undefined;
}

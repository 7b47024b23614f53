import { InvariantError } from '../../errors/coded-error.ts';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { WebhookSourceConfig } from '../../config/types.ts';
import { AppError } from '../../errors/app-error.ts';
import type { AcceptDelivery, DeliveryResult } from '../../ingest/accept-delivery.ts';
import type { StreamTarget } from '../../ingest/records.ts';
import type { JsonPointer } from '../../json/pointer.ts';
import { readDeliveryBody } from '../../webhooks/delivery-body.ts';
import {
  buildEnvelope,
  defaultHeaderAllowList,
  envelopePartitionKey,
} from '../../webhooks/envelope.ts';
import type { WebhookVerifier } from '../../webhooks/types.ts';
import type { WebhookAnswer, WebhookChallengeAnswer } from '../answers.ts';
import { unavailableProblem } from '../records-answers.ts';
import { createRouter, methodNotAllowed } from '../router.ts';

// POST /v1/webhooks/{source}: size limit, signature over the raw bytes, envelope, then ingest's
// delivery use case (replay guard; the spool — async, the default: a fast 202 even while DIS is
// slow or down — or DIS directly, sync).

export interface WebhookSource {
  readonly name: string;
  readonly config: WebhookSourceConfig;
  readonly verifier: WebhookVerifier;
  readonly stream: StreamTarget;
  /** `partitionKeyPointer` of the config, parsed at startup. */
  readonly partitionKeyPointer: JsonPointer | undefined;
}

export interface WebhooksRouteOptions {
  readonly sources: ReadonlyMap<string, WebhookSource>;
  readonly acceptDelivery: AcceptDelivery;
  readonly now: () => number;
  readonly maxRecordBytes: number;
  readonly syncWaitMs: number;
  /** Every verification's result (`ok` or the failure reason), for metrics; callers see a bare 401. */
  readonly onVerification?: ((source: string, result: string) => void) | undefined;
}

declare module 'express-serve-static-core' {
  interface Locals {
    webhookSource?: WebhookSource;
  }
}

const PATH = '/v1/webhooks/:source';

/**
 * Unauthenticated bytes are never decompressed: any coding but identity is 415 before verification
 * (RFC 9110 §15.5.16), even on an empty body that body-parser would skip.
 */
function refuseContentEncoding(req: Request, _res: Response, next: NextFunction): void {
  const header = req.headers['content-encoding'];
  const codings = (header ?? '')
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '');
  if (codings.some((c) => c !== 'identity')) {
    throw new AppError('ERR_HTTP_UNSUPPORTED_MEDIA_TYPE', {
      detail: 'Webhook deliveries take no Content-Encoding',
      headers: { 'Accept-Encoding': 'identity' },
    });
  }
  next();
}

function sourceParam(req: Request): string {
  const value = req.params.source;
  return typeof value === 'string' ? value : '';
}

/** What the sender hears. Senders retry on anything but 2xx, through the replay guard. */
function deliveryAnswer(
  result: DeliveryResult,
  deliveryId: string,
): { status: number; headers?: Record<string, string>; body: WebhookAnswer } | AppError {
  switch (result.kind) {
    case 'duplicate':
      return { status: 200, body: { duplicate: true, delivery_id: deliveryId } };
    case 'accepted':
      return {
        status: 202,
        headers: { Location: `/v1/receipts/${result.receiptId}` },
        body: { delivery_id: deliveryId, receipt: result.receiptId },
      };
    case 'written':
      return {
        status: 200,
        body: {
          delivery_id: deliveryId,
          partition_id: result.partitionId,
          sequence_number: result.sequenceNumber,
        },
      };
    case 'in-progress':
      return new AppError('ERR_WEBHOOK_IN_PROGRESS', { headers: { 'Retry-After': '5' } });
    case 'guard-unavailable':
      return new AppError('ERR_REDIS_UNAVAILABLE', {
        detail: 'The replay guard is unavailable; retry later',
        headers: { 'Retry-After': '1' },
        cause: result.cause,
      });
    case 'unavailable':
      return unavailableProblem(result);
    case 'not-written':
      return new AppError('ERR_DIS_UNAVAILABLE', {
        detail: 'The delivery was not written; retry later',
        headers: { 'Retry-After': '5' },
      });
    case 'unknown':
      return new AppError('ERR_DIS_TIMEOUT', {
        detail:
          result.reason === 'late'
            ? 'DIS did not answer in time; the delivery may still be written'
            : 'DIS did not answer in time; the delivery may have been written',
        headers: { 'Retry-After': '5' },
      });
  }
}

export function webhooksRoute(options: WebhooksRouteOptions): Router {
  const router = createRouter();

  router.all(PATH, function findSource(req: Request, res: Response, next: NextFunction) {
    const source = options.sources.get(sourceParam(req));
    if (source === undefined) throw new AppError('ERR_WEBHOOK_UNKNOWN_SOURCE');
    res.locals.webhookSource = source;
    res.locals.routeTemplate = PATH;
    next();
  });

  // One route per source (names are [A-Za-z0-9_-]), each with its own raw parser: the body limit
  // is checked (413) before any HMAC is computed.
  for (const [name, source] of options.sources) {
    router.post(
      `/v1/webhooks/${name}`,
      refuseContentEncoding,
      // inflate: false — signatures are checked over the bytes as received, never decompressed.
      express.raw({ type: () => true, limit: source.config.maxBodyBytes, inflate: false }),
      acceptDelivery,
    );
  }

  router.all(PATH, methodNotAllowed('POST'));

  return router;

  async function acceptDelivery(req: Request, res: Response): Promise<void> {
    const source = res.locals.webhookSource;
    if (source === undefined)
      throw new InvariantError('findSource() did not run before this handler');
    const body = readDeliveryBody(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
    const receivedAt = options.now();
    const verification = source.verifier.verify({ headers: req.headersDistinct, body }, receivedAt);
    options.onVerification?.(source.name, verification.ok ? 'ok' : verification.reason);
    if (!verification.ok) throw new AppError('ERR_WEBHOOK_UNAUTHORIZED');
    if (verification.challenge !== undefined) {
      // A handshake, not a delivery: no replay claim, no envelope, nothing spooled or written.
      const answer: WebhookChallengeAnswer = { challenge: verification.challenge };
      res.status(200).json(answer);
      return;
    }
    const { deliveryId } = verification;

    const data = buildEnvelope({
      source: source.name,
      deliveryId,
      receivedAt,
      headers: req.headersDistinct,
      headerAllowList: defaultHeaderAllowList(source.config),
      body,
    });
    if (data.length > options.maxRecordBytes) {
      throw new AppError('ERR_WEBHOOK_TOO_LARGE', {
        detail: 'The delivery does not fit in one DIS record',
      });
    }
    const result = await options.acceptDelivery({
      source: source.name,
      deliveryId,
      stream: source.stream,
      record: {
        data,
        partitionKey: envelopePartitionKey(source.partitionKeyPointer, deliveryId, body),
      },
      mode: source.config.mode,
      waitMs: options.syncWaitMs,
      replayOnRedisDown: source.config.replayOnRedisDown,
      trace: res.locals.trace,
    });
    const answer = deliveryAnswer(result, deliveryId);
    if (answer instanceof AppError) throw answer;
    for (const [name, value] of Object.entries(answer.headers ?? {})) res.setHeader(name, value);
    res.status(answer.status).json(answer.body);
  }
}

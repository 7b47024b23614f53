import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { WebhookSourceConfig } from '../../config/types.ts';
import { AppError } from '../../errors/app-error.ts';
import type { JsonPointer } from '../../json/pointer.ts';
import type { Ingest } from '../../ingest/ingest.ts';
import { waitUntil } from '../../ingest/deadline.ts';
import { classifyOutcome, countPossiblyWritten, type OutcomeClass } from '../../ingest/outcome.ts';
import type { PutRecordsOutcome } from '../../dis/client.ts';
import { SpoolAppendError, type Spool } from '../../spool/spool.ts';
import { readDeliveryBody } from '../../webhooks/delivery-body.ts';
import {
  buildEnvelope,
  defaultHeaderAllowList,
  envelopePartitionKey,
} from '../../webhooks/envelope.ts';
import { ReplayGuardUnavailable, type ReplayGuard } from '../../webhooks/replay-guard.ts';
import type { WebhookVerifier } from '../../webhooks/types.ts';
import { ingestUnavailable } from '../ingest-errors.ts';
import type { OutcomeEvents, RecordsStream } from './records.ts';

// POST /v1/webhooks/{source}: size limit, signature over the raw bytes, replay guard, envelope, then
// the spool (async, the default: a fast 202 even while DIS is slow or down) or DIS directly (sync).

export interface WebhookSource {
  readonly name: string;
  readonly config: WebhookSourceConfig;
  readonly verifier: WebhookVerifier;
  readonly stream: RecordsStream;
  /** `partitionKeyPointer` of the config, parsed at startup. */
  readonly partitionKeyPointer: JsonPointer | undefined;
}

export interface WebhooksRouteOptions {
  readonly sources: ReadonlyMap<string, WebhookSource>;
  readonly replayGuard: ReplayGuard;
  /** Absent without Redis (dev mode): async sources then write synchronously. */
  readonly spool: Spool | undefined;
  readonly ingest: Ingest;
  readonly now: () => number;
  readonly maxRecordBytes: number;
  readonly syncWaitMs: number;
  /** Work that goes on after the answer (a sync delivery's DIS call settling after a 504). */
  readonly background: (task: Promise<void>) => void;
  readonly outcomes?: OutcomeEvents | undefined;
  /** Every verification's result (`ok` or the failure reason), for metrics; callers see a bare 401. */
  readonly onVerification?: ((source: string, result: string) => void) | undefined;
}

declare module 'express-serve-static-core' {
  interface Locals {
    webhookSource?: WebhookSource;
  }
}

const PATH = '/v1/webhooks/:source';

function sourceParam(req: Request): string {
  const value = req.params.source;
  return typeof value === 'string' ? value : '';
}

export function webhooksRoute(options: WebhooksRouteOptions): Router {
  const router = express.Router();

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
      express.raw({ type: () => true, limit: source.config.maxBodyBytes }),
      acceptDelivery,
    );
  }

  router.all(PATH, function methodNotAllowed() {
    throw new AppError('ERR_HTTP_METHOD_NOT_ALLOWED', { headers: { Allow: 'POST' } });
  });

  return router;

  function possibleDuplicates(count: number): void {
    if (count > 0) options.outcomes?.possibleDuplicates?.(count);
  }

  async function acceptDelivery(req: Request, res: Response): Promise<void> {
    const source = res.locals.webhookSource;
    if (source === undefined) throw new AppError('ERR_INTERNAL');
    const body = readDeliveryBody(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
    const receivedAt = options.now();
    const verification = source.verifier.verify({ headers: req.headersDistinct, body }, receivedAt);
    options.onVerification?.(source.name, verification.ok ? 'ok' : verification.reason);
    if (!verification.ok) {
      throw new AppError('ERR_WEBHOOK_UNAUTHORIZED');
    }
    const { deliveryId } = verification;

    let claimed = false;
    try {
      const claim = await options.replayGuard.claim(source.name, deliveryId);
      if (claim === 'duplicate') {
        res.status(200).json({ duplicate: true, delivery_id: deliveryId });
        return;
      }
      if (claim === 'in-progress') {
        // An earlier attempt of this delivery is still being accepted (or its DIS write has no
        // known outcome yet): "duplicate" now could acknowledge a delivery that then fails.
        throw new AppError('ERR_WEBHOOK_IN_PROGRESS', { headers: { 'Retry-After': '5' } });
      }
      claimed = true;
    } catch (error) {
      if (!(error instanceof ReplayGuardUnavailable)) throw error;
      if (source.config.replayOnRedisDown !== 'forward') {
        throw new AppError('ERR_REDIS_UNAVAILABLE', {
          detail: 'The replay guard is unavailable; retry later',
          headers: { 'Retry-After': '1' },
          cause: error,
        });
      }
      // Configured to forward without the guard: a redelivery may then be written twice.
    }
    /** Best effort: a claim that cannot be settled expires (pending) by itself. */
    const release = async (): Promise<void> => {
      if (claimed)
        await options.replayGuard.release(source.name, deliveryId).catch(() => undefined);
    };
    const accept = async (): Promise<void> => {
      if (!claimed) return;
      try {
        await options.replayGuard.accept(source.name, deliveryId);
      } catch {
        // The delivery is written; once the pending claim expires a redelivery writes it again.
        possibleDuplicates(1);
      }
    };
    /**
     * What a sync write's outcome means for the claim, whether the sender is still waiting or was
     * told 504: written → accepted; unknown → left pending to expire (a redelivery after that may
     * write it twice); nothing written → released, so the sender's retry goes through.
     */
    const settleClaim = async (outcome: PutRecordsOutcome): Promise<OutcomeClass['kind']> => {
      const kind = classifyOutcome(outcome).kind;
      if (kind === 'written') await accept();
      else if (kind === 'unknown') possibleDuplicates(countPossiblyWritten(outcome));
      else await release();
      return kind;
    };

    const { stream } = source;
    let data: Buffer;
    let partitionKey: string;
    try {
      data = buildEnvelope({
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
      partitionKey = envelopePartitionKey(source.partitionKeyPointer, deliveryId, body);
    } catch (error) {
      await release();
      throw error;
    }

    if (source.config.mode === 'async' && options.spool !== undefined) {
      let receiptId: string;
      try {
        ({ receiptId } = await options.spool.append({
          disStream: stream.disStream,
          ...(stream.streamId === undefined ? {} : { streamId: stream.streamId }),
          logicalStream: stream.name,
          owner: `webhook:${source.name}`,
          records: [{ data, partitionKey }],
        }));
      } catch (error) {
        // Only a delivery certainly not in the spool gives its claim back; otherwise the claim
        // stays pending until it expires and a redelivery after that may add a copy.
        if (error instanceof SpoolAppendError && !error.mayHaveWritten) await release();
        else possibleDuplicates(1);
        throw error;
      }
      await accept();
      res.setHeader('Location', `/v1/receipts/${receiptId}`);
      res.status(202).json({ delivery_id: deliveryId, receipt: receiptId });
      return;
    }

    const deadline = options.now() + options.syncWaitMs;
    let timely;
    try {
      timely = await waitUntil(
        options.ingest.ingest(
          { name: stream.name, disStream: stream.disStream, streamId: stream.streamId },
          [{ data, partitionKey }],
          deadline,
        ),
        deadline,
        options.now,
      );
    } catch (error) {
      // Refused before anything was sent: the sender's retry must go through.
      await release();
      const unavailable = ingestUnavailable(error);
      if (unavailable !== undefined) throw unavailable;
      throw error;
    }
    if (timely.late) {
      // The write may still happen: the claim stays pending (a redelivery meanwhile gets 409)
      // and the call's outcome settles it.
      options.background(
        timely.pending.then(
          async (outcome) => {
            await settleClaim(outcome);
          },
          () => release(),
        ),
      );
      throw new AppError('ERR_DIS_TIMEOUT', {
        detail: 'DIS did not answer in time; the delivery may still be written',
        headers: { 'Retry-After': '5' },
      });
    }
    const outcome = timely.value;
    const kind = await settleClaim(outcome);
    const verdict = outcome.verdicts[0];
    if (verdict?.status === 'ok') {
      res.status(200).json({
        delivery_id: deliveryId,
        partition_id: verdict.partitionId,
        sequence_number: verdict.sequenceNumber,
      });
      return;
    }
    if (kind === 'unknown') {
      throw new AppError('ERR_DIS_TIMEOUT', {
        detail: 'DIS did not answer in time; the delivery may have been written',
        headers: { 'Retry-After': '5' },
      });
    }
    // Nothing was written: the sender retries on anything but 2xx, through the replay guard.
    throw new AppError('ERR_DIS_UNAVAILABLE', {
      detail: 'The delivery was not written; retry later',
      headers: { 'Retry-After': '5' },
    });
  }
}

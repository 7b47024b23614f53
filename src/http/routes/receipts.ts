import express, { type Request, type Response, type Router } from 'express';
import type { TokenVerifier } from '../../auth/jwt-verifier.ts';
import { AppError } from '../../errors/app-error.ts';
import type { Spool } from '../../spool/spool.ts';
import type { ReceiptAnswer } from '../answers.ts';

/** Lets a caller read any receipt, webhook deliveries included. */
export const OPERATOR_SCOPE = 'dis:receipts:read';

export interface ReceiptsRouteOptions {
  readonly verifier: TokenVerifier;
  readonly spool: Spool | undefined;
}

// GET /v1/receipts/{id}: what became of records accepted with 202. Only the principal that sent
// them (or an operator) may look; anyone else gets the same 404 as for an unknown id.
export function receiptsRoute(options: ReceiptsRouteOptions): Router {
  const router = express.Router();
  router.get('/v1/receipts/:id', async function readReceipt(req: Request, res: Response) {
    res.locals.routeTemplate = '/v1/receipts/:id';
    const principal = await options.verifier.authenticate(req.headersDistinct.authorization);
    const id = typeof req.params.id === 'string' ? req.params.id : '';
    const receipt = await options.spool?.receipt(id, {
      owner: principal.id,
      operator: principal.scopes.has(OPERATOR_SCOPE),
    });
    if (receipt === undefined) throw new AppError('ERR_RECEIPT_NOT_FOUND');
    // The spool's receipt is the answer as it is; the type says the two shapes agree.
    const body: ReceiptAnswer = receipt;
    res.setHeader('Cache-Control', 'no-store');
    res.json(body);
  });
  return router;
}

import type { Request, Response, Router } from 'express';
import type { TokenVerifier } from '../../auth/jwt-verifier.ts';
import { AppError } from '../../errors/app-error.ts';
import type { FindReceipt } from '../../ingest/receipts.ts';
import type { ReceiptAnswer } from '../answers.ts';
import { authenticate, principalOf } from '../middleware/authenticate.ts';
import { createRouter, methodNotAllowed } from '../router.ts';

/** Lets a caller read any receipt, webhook deliveries included. */
export const OPERATOR_SCOPE = 'dis:receipts:read';

export interface ReceiptsRouteOptions {
  readonly verifier: TokenVerifier;
  readonly findReceipt: FindReceipt;
}

// GET /v1/receipts/{id}: what became of records accepted with 202. Only the principal that sent
// them (or an operator) may look; anyone else gets the same 404 as for an unknown id.
export function receiptsRoute(options: ReceiptsRouteOptions): Router {
  const router = createRouter();
  router.get(
    '/v1/receipts/:id',
    function routeTemplate(_req: Request, res: Response, next: () => void) {
      res.locals.routeTemplate = '/v1/receipts/:id';
      next();
    },
    authenticate(options.verifier),
    async function readReceipt(req: Request, res: Response) {
      const principal = principalOf(res);
      const id = typeof req.params.id === 'string' ? req.params.id : '';
      const receipt = await options.findReceipt(id, {
        principal: principal.id,
        operator: principal.scopes.has(OPERATOR_SCOPE),
      });
      if (receipt === undefined) throw new AppError('ERR_RECEIPT_NOT_FOUND');
      // The spool's receipt is the answer as it is; the type says the two shapes agree.
      const body: ReceiptAnswer = receipt;
      res.setHeader('Cache-Control', 'no-store');
      res.json(body);
    },
  );
  router.all('/v1/receipts/:id', methodNotAllowed('GET, HEAD'));
  return router;
}

import type { Receipt } from '../spool/receipt.ts';
import type { Spool } from '../spool/spool.ts';

// What became of records accepted with 202: the spool's receipt, for its owner or an operator.
//
// A receipt names its owner in a namespace of its own kind, `principal:<token subject>` or
// `webhook:<source>`: a token subject is whatever the issuer wrote, so a bare subject could be
// `webhook:gh` and read every receipt of that source.

/** The receipt's body as the API shows it (field names follow DIS, like a synchronous answer). */
export type ReceiptView = Receipt;

export interface ReceiptViewer {
  /** The token's principal id (its subject). */
  readonly principal: string;
  /** May read any receipt, webhook deliveries included. */
  readonly operator: boolean;
}

export function principalOwner(principal: string): string {
  return `principal:${principal}`;
}

export function webhookOwner(source: string): string {
  return `webhook:${source}`;
}

/** Owners written before owners had a namespace were bare principal ids. */
function mayBeBareOwner(principal: string): boolean {
  return !principal.startsWith('principal:') && !principal.startsWith('webhook:');
}

/** The receipt if `viewer` may see it; undefined for unknown, expired, someone else's, or no spool. */
export type FindReceipt = (id: string, viewer: ReceiptViewer) => Promise<ReceiptView | undefined>;

export function createFindReceipt(spool: Pick<Spool, 'receipt'> | undefined): FindReceipt {
  return async (id, viewer) => {
    if (spool === undefined) return undefined;
    const owner = principalOwner(viewer.principal);
    const receipt = await spool.receipt(id, { owner, operator: viewer.operator });
    if (receipt !== undefined || viewer.operator || !mayBeBareOwner(viewer.principal))
      return receipt;
    // A receipt accepted before the namespaces (within one receipt TTL of the upgrade).
    return spool.receipt(id, { owner: viewer.principal, operator: false });
  };
}

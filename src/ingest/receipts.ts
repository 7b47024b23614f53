import type { Receipt } from '../spool/receipt.ts';
import type { Spool } from '../spool/spool.ts';

// What became of records accepted with 202: the spool's receipt, for its owner or an operator.

/** The receipt's body as the API shows it (field names follow DIS, like a synchronous answer). */
export type ReceiptView = Receipt;

export interface ReceiptViewer {
  /** A principal id; webhook deliveries are owned by `webhook:<source>`. */
  readonly owner: string;
  /** May read any receipt. */
  readonly operator: boolean;
}

/** The receipt if `viewer` may see it; undefined for unknown, expired, someone else's, or no spool. */
export type FindReceipt = (id: string, viewer: ReceiptViewer) => Promise<ReceiptView | undefined>;

export function createFindReceipt(spool: Pick<Spool, 'receipt'> | undefined): FindReceipt {
  return async (id, viewer) => spool?.receipt(id, viewer);
}

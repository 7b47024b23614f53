import { toKeyPart } from '../redis/key-part.ts';

// Key layout. The spool stream and its dead-letter stream share one hash tag (the DIS stream name),
// so the forwarder's ack + delete + dead-letter step is one script even in Redis Cluster. A receipt
// is keyed by its own id: it lives in another slot, which is why appends and settlements touch it
// in a separate step in Cluster mode.

export const DEFAULT_SPOOL_KEY_PREFIX = 'gw:';
export const FORWARDER_GROUP = 'forwarders';

/** Receipt ids are ours (UUIDs), but the one in a URL is the caller's: anything else is unknown. */
const RECEIPT_ID = /^[A-Za-z0-9_-]{1,64}$/;

export interface SpoolKeys {
  /** `gw:spool:{<disStream b64url>}`: the entries still to be sent. */
  readonly stream: (disStream: string) => string;
  /** `gw:dlq:{<disStream b64url>}`: entries DIS refused for good, with the reason. */
  readonly deadLetter: (disStream: string) => string;
  /** `gw:receipt:{<id>}` */
  readonly receipt: (id: string) => string;
}

export function createSpoolKeys(prefix = DEFAULT_SPOOL_KEY_PREFIX): SpoolKeys {
  return {
    stream: (disStream) => `${prefix}spool:{${toKeyPart(disStream)}}`,
    deadLetter: (disStream) => `${prefix}dlq:{${toKeyPart(disStream)}}`,
    receipt: (id) => `${prefix}receipt:{${id}}`,
  };
}

export function isReceiptId(id: string): boolean {
  return RECEIPT_ID.test(id);
}

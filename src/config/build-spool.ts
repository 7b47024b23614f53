import type { BuildContext } from './build-context.ts';
import type { FileConfig } from './file-schema.ts';
import type { SpoolConfig } from './types.ts';

// Spool and forwarder settings, with the checks that relate them to each other.

export function buildSpool(
  spool: FileConfig['spool'],
  context: BuildContext,
  /** An attempt in flight at a batch's deadline may run this much longer (one request's bound). */
  disRequestBoundMs: number,
): SpoolConfig {
  const { problems } = context;
  if (spool.retry_initial_ms > spool.retry_max_ms)
    problems.push('spool.retry_initial_ms: must not exceed spool.retry_max_ms');
  // A batch still in flight at one instance must not be taken over by another: that would send
  // it twice in the normal case, not only after a crash.
  if (spool.claim_idle_ms <= spool.put_timeout_ms + disRequestBoundMs)
    problems.push(
      'spool.claim_idle_ms: must be above spool.put_timeout_ms + dis.connect_timeout_ms + 2 × dis.request_timeout_ms (a batch in flight at its deadline still waits for its DIS request)',
    );
  return {
    maxEntries: spool.max_entries,
    batchSize: spool.batch_size,
    blockMs: spool.block_ms,
    claimIdleMs: spool.claim_idle_ms,
    retryInitialMs: spool.retry_initial_ms,
    retryMaxMs: spool.retry_max_ms,
    putTimeoutMs: spool.put_timeout_ms,
    receiptTtlS: spool.receipt_ttl_s,
    deadLetterMaxEntries: spool.dead_letter_max_entries,
    minReplicaAcks: spool.min_replica_acks,
    replicaAckTimeoutMs: spool.replica_ack_timeout_ms,
  };
}

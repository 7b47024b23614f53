import type { RecordVerdict } from '../dis/verdicts.ts';
import type { ReplicaAcks } from '../redis/replication.ts';
import type { SpoolEntry } from './entry.ts';
import { FORWARDER_GROUP } from './keys.ts';
import { encodeOutcome, recordField, type RecordOutcome } from './receipt.ts';

// What a batch's verdicts mean for its entries, and writing that down in Redis.

/**
 * Request-level refusals that are about the records themselves, so sending them again cannot
 * help. Any other non-retryable request failure (authentication, unknown stream or project, IP
 * blacklisting) is about the gateway's own setup: those entries stay pending until an operator
 * fixes it, instead of a whole spool being dead-lettered by a rotated key.
 */
const RECORD_FAULT_CODES = new Set([
  'DIS.4200',
  'DIS.4201',
  'DIS.4300',
  'DIS.4302',
  'DIS.4319',
  'DIS.4360',
  'APIGW.0201',
]);

export interface DeadLetter {
  readonly id: string;
  readonly fields: readonly Buffer[];
  readonly errorCode: string;
  readonly errorMessage: string;
  /** Undefined for an entry too damaged to name its receipt. */
  readonly entry?: SpoolEntry;
}

export interface BatchPlan {
  readonly written: {
    readonly entry: SpoolEntry;
    readonly partitionId: string;
    readonly sequenceNumber: string;
  }[];
  readonly dead: DeadLetter[];
  /** Left pending, to be sent again after a backoff. */
  readonly retry: SpoolEntry[];
  /** Some failure says DIS will refuse anything for now: pause the whole stream, not just these. */
  readonly hold: boolean;
}

export function planBatch(
  entries: readonly SpoolEntry[],
  verdicts: readonly RecordVerdict[],
): BatchPlan {
  const plan: BatchPlan = { written: [], dead: [], retry: [], hold: false };
  let hold = false;
  entries.forEach((entry, i) => {
    const verdict = verdicts[i];
    if (verdict === undefined) {
      plan.retry.push(entry);
    } else if (verdict.status === 'ok') {
      plan.written.push({
        entry,
        partitionId: verdict.partitionId,
        sequenceNumber: verdict.sequenceNumber,
      });
    } else if (verdict.retryable) {
      plan.retry.push(entry);
    } else if (verdict.origin === 'record' || RECORD_FAULT_CODES.has(verdict.errorCode)) {
      plan.dead.push({
        id: entry.id,
        fields: entry.fields,
        errorCode: verdict.errorCode,
        errorMessage: verdict.errorMessage,
        entry,
      });
    } else {
      plan.retry.push(entry);
      hold = true;
    }
  });
  return { ...plan, hold };
}

const UPDATE_RECEIPT = {
  name: 'gwSpoolReceiptUpdateV1',
  // An expired receipt is not brought back (as a hash without owner). A live one is kept for the
  // full TTL after its latest outcome, so a long DIS outage does not leave the caller without it.
  // ARGV: ttlMs, then field/value pairs.
  lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 1
`,
};

// Dead letters added, entries acknowledged and deleted, in one step on the spool's slot.
// ARGV: group, dead-letter MAXLEN, failedAt, #dead letters, #acks, #deletions, then per dead
// letter its entry id, error code, error message, field count and fields, then the ids to
// acknowledge, then the ids to delete.
const SETTLE = {
  name: 'gwSpoolSettleV2',
  lua: `
local group, maxlen, failed_at = ARGV[1], ARGV[2], ARGV[3]
local dead, acks, dels = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local i = 7
for _ = 1, dead do
  local id, code, message, k = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
  -- A settlement run again (its first run was not confirmed) finds the entry deleted already.
  if #redis.call('XRANGE', KEYS[1], id, id) > 0 then
    local fields = {}
    for j = 1, k do fields[j] = ARGV[i + 3 + j] end
    for _, v in ipairs({'entry_id', id, 'error_code', code, 'error_message', message, 'failed_at', failed_at}) do
      fields[#fields + 1] = v
    end
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', maxlen, '*', unpack(fields))
  end
  i = i + 4 + k
end
if acks > 0 then redis.call('XACK', KEYS[1], group, unpack(ARGV, i, i + acks - 1)) end
i = i + acks
if dels > 0 then redis.call('XDEL', KEYS[1], unpack(ARGV, i, i + dels - 1)) end
return 1
`,
};

export interface SettleTarget {
  /** Receipt updates and the settlement go through it: on the primary, confirmed by WAIT. */
  readonly acks: ReplicaAcks;
  readonly streamKey: string;
  readonly deadLetterKey: string;
  readonly receiptKey: (id: string) => string;
  readonly deadLetterMaxEntries: number;
  readonly receiptTtlMs: number;
}

export type Settle = (
  plan: BatchPlan,
  /** Pending ids whose entries were deleted meanwhile: acknowledged, nothing to send. */
  gone: readonly string[],
  failedAt: string,
) => Promise<void>;

/**
 * Receipts first, then one script on the spool's slot: dead letters added, entries acknowledged
 * and deleted together. A crash between the two steps leaves entries pending whose receipts
 * already tell the truth; they are sent again (at-least-once), never lost.
 *
 * Both steps are confirmed by the replicas (WAIT) like any acknowledged write. In Cluster a receipt
 * lives on another node than its entries, and without it a failover of the receipt's node could
 * leave the receipt `pending` for a written record. On any primary, a settlement the promoted
 * replica never got (the second between a switchover and the client noticing it) would have the
 * entries read and sent to DIS again: an unconfirmed settlement fails instead, and the forwarder
 * retries the settlement itself, not the send.
 */
export function createSettle(target: SettleTarget): Settle {
  const updateReceipt = target.acks.script(UPDATE_RECEIPT, 'receipt_update');
  const settle = target.acks.script(SETTLE, 'settlement');
  return async (plan, gone, failedAt) => {
    const byReceipt = new Map<string, string[]>();
    const note = (entry: SpoolEntry, outcome: RecordOutcome): void => {
      const pairs = byReceipt.get(entry.receiptId) ?? [];
      pairs.push(recordField(entry.index), encodeOutcome(outcome));
      byReceipt.set(entry.receiptId, pairs);
    };
    for (const w of plan.written) {
      note(w.entry, {
        status: 'written',
        partitionId: w.partitionId,
        sequenceNumber: w.sequenceNumber,
      });
    }
    for (const d of plan.dead) {
      if (d.entry !== undefined) {
        note(d.entry, {
          status: 'dead_lettered',
          errorCode: d.errorCode,
          errorMessage: d.errorMessage,
        });
      }
    }
    await Promise.all(
      [...byReceipt].map(([id, pairs]) =>
        updateReceipt([target.receiptKey(id)], [target.receiptTtlMs, ...pairs]),
      ),
    );

    const done = [...plan.written.map((w) => w.entry.id), ...plan.dead.map((d) => d.id)];
    if (done.length === 0 && gone.length === 0) return;
    const args: (string | number | Buffer)[] = [
      FORWARDER_GROUP,
      target.deadLetterMaxEntries,
      failedAt,
      plan.dead.length,
      done.length + gone.length,
      done.length,
    ];
    for (const d of plan.dead) {
      args.push(d.id, d.errorCode, d.errorMessage, d.fields.length, ...d.fields);
    }
    args.push(...done, ...gone, ...done);
    await settle([target.streamKey, target.deadLetterKey], args);
  };
}

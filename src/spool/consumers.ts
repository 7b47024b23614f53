import { z } from 'zod';
import type { RedisClient } from '../redis/connect.ts';
import type { ReplicaAcks } from '../redis/replication.ts';
import { createSpoolKeys, FORWARDER_GROUP } from './keys.ts';

// The consumers of a spool stream's forwarder group. Every gateway instance joins under a name of
// its own (host-pid-random) and leaves on a clean stop (stream-connection.ts); one that crashed
// stays. Its pending entries are not lost meanwhile: any forwarder takes over entries idle for
// spool.claim_idle_ms (XAUTOCLAIM), after which the dead consumer holds nothing and is only a name.

export interface SpoolConsumer {
  readonly name: string;
  /** Entries it was handed and has not acknowledged. */
  readonly pending: number;
  /** Since its last read or claim (a live forwarder reads at least every spool.block_ms). */
  readonly idleMs: number;
}

export type PruneResult =
  | { readonly status: 'deleted'; readonly requeued: number }
  | { readonly status: 'missing' }
  /** Idle less than asked (it read since it was listed). */
  | { readonly status: 'active'; readonly idleMs: number }
  /** Holds entries and `force` was not given: left alone. */
  | { readonly status: 'holding'; readonly pending: number };

export interface SpoolConsumers {
  /** Empty when no forwarder has created the group yet. */
  list(disStream: string): Promise<SpoolConsumer[]>;
  prune(
    disStream: string,
    name: string,
    options: { readonly minIdleMs: number; readonly force: boolean },
  ): Promise<PruneResult>;
}

// Checked and deleted in one script, so a consumer that reads between the listing and the prune is
// kept. XGROUP DELCONSUMER drops the consumer's pending entries from the group: they would stay in
// the stream, behind the group's last-delivered id, and never be read again. So with force they are
// first appended again as new entries (same fields: the same receipt record) and the originals
// acknowledged and deleted, as a takeover would (the dead consumer may have written them: each is a
// possible duplicate). At most ARGV[5] entries move per call, so that one script does not hold
// Redis for long; {2, n} asks for another call. KEYS: the spool stream. ARGV: group, consumer,
// minIdleMs, force (1/0), moves per call.
const PRUNE = {
  name: 'gwSpoolPruneConsumerV1',
  lua: `
local ok, consumers = pcall(redis.call, 'XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
if not ok then return {0, 0} end
local found = nil
for _, c in ipairs(consumers) do
  local info = {}
  for i = 1, #c, 2 do info[c[i]] = c[i + 1] end
  if info['name'] == ARGV[2] then found = info end
end
if found == nil then return {0, 0} end
local idle, pending = tonumber(found['idle']), tonumber(found['pending'])
if idle < tonumber(ARGV[3]) then return {-1, idle} end
if pending > 0 and ARGV[4] ~= '1' then return {-2, pending} end
local requeued = 0
if pending > 0 then
  local held = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', tonumber(ARGV[5]), ARGV[2])
  for _, p in ipairs(held) do
    local id = p[1]
    local entry = redis.call('XRANGE', KEYS[1], id, id)
    if #entry > 0 then
      redis.call('XADD', KEYS[1], '*', unpack(entry[1][2]))
      requeued = requeued + 1
    end
    redis.call('XACK', KEYS[1], ARGV[1], id)
    redis.call('XDEL', KEYS[1], id)
  end
  if pending > #held then return {2, requeued} end
end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
return {1, requeued}
`,
};

const MOVES_PER_CALL = 500;

const PruneReply = z.tuple([z.number(), z.number()]);

/** XINFO CONSUMERS: a flat name/value list per consumer (RESP2), or a map (RESP3). */
const ConsumerInfo = z.union([
  z.array(z.unknown()).transform((pairs) => {
    const info: Record<string, unknown> = {};
    for (let i = 0; i + 1 < pairs.length; i += 2) info[String(pairs[i])] = pairs[i + 1];
    return info;
  }),
  z.record(z.string(), z.unknown()),
]);
const Consumer = z.object({
  name: z.string(),
  pending: z.coerce.number(),
  idle: z.coerce.number(),
});

function isNoGroup(error: unknown): boolean {
  // NOGROUP: the stream exists without the group; "no such key": no stream yet.
  return error instanceof Error && /^(NOGROUP|ERR no such key)/.test(error.message);
}

export function createSpoolConsumers(options: {
  readonly redis: RedisClient;
  /** A forced prune moves entries: confirmed by the replicas like a settlement (on `redis`). */
  readonly acks: ReplicaAcks;
  readonly keyPrefix?: string;
  /** Entries a forced prune moves per script call (default 500). */
  readonly movesPerCall?: number;
}): SpoolConsumers {
  const { redis } = options;
  const keys = createSpoolKeys(options.keyPrefix);
  const prune = options.acks.script(PRUNE, 'consumer_prune');
  const movesPerCall = options.movesPerCall ?? MOVES_PER_CALL;
  return {
    async list(disStream) {
      let reply: unknown;
      try {
        reply = await redis.call('XINFO', 'CONSUMERS', keys.stream(disStream), FORWARDER_GROUP);
      } catch (error) {
        if (isNoGroup(error)) return [];
        throw error;
      }
      return z
        .array(ConsumerInfo)
        .parse(reply)
        .map((info) => {
          const c = Consumer.parse(info);
          return { name: c.name, pending: c.pending, idleMs: c.idle };
        });
    },
    async prune(disStream, name, { minIdleMs, force }) {
      let requeued = 0;
      for (;;) {
        const [code, n] = PruneReply.parse(
          await prune(
            [keys.stream(disStream)],
            [FORWARDER_GROUP, name, minIdleMs, force ? 1 : 0, movesPerCall],
          ),
        );
        if (code === 2) {
          requeued += n;
          continue;
        }
        if (code === 1) return { status: 'deleted', requeued: requeued + n };
        // Entries already moved stay moved (new entries, as a takeover would have made them).
        if (code === -1) return { status: 'active', idleMs: n };
        if (code === -2) return { status: 'holding', pending: n };
        return { status: 'missing' };
      }
    },
  };
}

import { once } from 'node:events';
import { Cluster } from 'ioredis';
import { closeRedis, type RedisClient } from '../redis/connect.ts';
import { defineScript } from '../redis/script.ts';
import { FORWARDER_GROUP } from './keys.ts';
import { parseAutoClaimReply, parseReadReply, type RawEntry } from './stream-reply.ts';

// One forwarder loop's connection and the consumer-group commands it sends for one spool stream.

/** Headroom above BLOCK for the reply, and the bound on the loop's other commands. */
const COMMAND_SLACK_MS = 5_000;

// Removes the consumer from the group on stop, but only when it holds nothing: deleting a
// consumer drops its pending entries from the group, and they would never be delivered again.
const RETIRE = {
  name: 'gwSpoolRetireConsumerV1',
  lua: `
local ok, pending = pcall(redis.call, 'XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if not ok or #pending > 0 then return 0 end
return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
`,
};

export interface StreamConnection {
  /** Resolves when connected; rejects when `signal` aborts first. */
  ready(signal: AbortSignal): Promise<void>;
  /**
   * Creates the group from the start of the stream: entries appended before it existed (or
   * before a Redis restart lost it) are all unsent, since sent entries are deleted.
   */
  ensureGroup(): Promise<void>;
  /** `0`: this consumer's pending entries; `>`: new ones, waiting up to blockMs. */
  read(id: '0' | '>', blockMs?: number): Promise<RawEntry[]>;
  /** XAUTOCLAIM: entries any consumer has held at least minIdleMs become this consumer's. */
  claim(minIdleMs: number, cursor: string): Promise<{ cursor: string; entries: RawEntry[] }>;
  retire(): Promise<void>;
  close(): Promise<void>;
}

export interface StreamConnectionOptions {
  readonly key: string;
  readonly consumer: string;
  readonly batchSize: number;
  readonly blockMs: number;
  readonly onError: (error: unknown) => void;
}

/**
 * Its own connection, because its reads block; its commands run one after another anyway. No
 * auto-pipelining: ioredis drops the command name of `callBuffer` when it auto-pipelines it.
 */
function duplicate(template: RedisClient, commandTimeout: number): RedisClient {
  if (template instanceof Cluster) {
    return template.duplicate([], {
      enableAutoPipelining: false,
      // The default mapping, stated so the copy's type is a plain Cluster.
      redisOptions: { ...template.options.redisOptions, commandTimeout, replyMapping: 'legacy' },
    });
  }
  return template.duplicate({ commandTimeout, enableAutoPipelining: false });
}

export function openStreamConnection(
  template: RedisClient,
  options: StreamConnectionOptions,
): StreamConnection {
  const { key, consumer, batchSize } = options;
  const redis = duplicate(template, options.blockMs + COMMAND_SLACK_MS);
  redis.on('error', options.onError);
  const retire = defineScript(redis, RETIRE);

  return {
    async ready(signal) {
      if (redis.status === 'ready') return;
      await once(redis, 'ready', { signal });
    },
    async ensureGroup() {
      try {
        await redis.xgroup('CREATE', key, FORWARDER_GROUP, '0', 'MKSTREAM');
      } catch (error) {
        if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) throw error;
      }
    },
    async read(id, blockMs) {
      const block = blockMs === undefined ? [] : ['BLOCK', Math.max(1, Math.round(blockMs))];
      const reply = await redis.callBuffer(
        'XREADGROUP',
        ...['GROUP', FORWARDER_GROUP, consumer, 'COUNT', batchSize],
        ...block,
        ...['STREAMS', key, id],
      );
      return parseReadReply(reply);
    },
    async claim(minIdleMs, cursor) {
      const reply = await redis.callBuffer(
        'XAUTOCLAIM',
        ...[key, FORWARDER_GROUP, consumer, minIdleMs, cursor, 'COUNT', batchSize],
      );
      return parseAutoClaimReply(reply);
    },
    async retire() {
      await retire([key], [FORWARDER_GROUP, consumer]);
    },
    close: () => closeRedis(redis),
  };
}

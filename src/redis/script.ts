import { InvariantError } from '../errors/coded-error.ts';
import type { RedisClient } from './connect.ts';

export interface ScriptDefinition {
  /** Unique per script text and distinct from any Redis command: it becomes a client method. */
  readonly name: string;
  readonly lua: string;
}

/** Buffers go to Redis unchanged (raw record bytes). */
export type RunScript = (
  keys: readonly string[],
  args: readonly (string | number | Buffer)[],
) => Promise<unknown>;

/**
 * Registers a Lua script on the client and returns a caller. ioredis sends EVALSHA and falls back
 * to EVAL on NOSCRIPT (a restarted Redis has lost its script cache). The number of keys is given
 * per call, so one script serves any number of buckets; in Cluster, ioredis routes the call by
 * the keys' slot. The reply is `unknown` on purpose: every caller parses it.
 */
export function defineScript(redis: RedisClient, definition: ScriptDefinition): RunScript {
  if (typeof Reflect.get(redis, definition.name) !== 'function') {
    redis.defineCommand(definition.name, { lua: definition.lua });
  }
  return async (keys, args) => {
    const command: unknown = Reflect.get(redis, definition.name);
    if (typeof command !== 'function')
      throw new InvariantError(`${definition.name} is not defined`);
    const reply: unknown = await Reflect.apply(command, redis, [keys.length, ...keys, ...args]);
    return reply;
  };
}

import type { RedisClient } from '../redis/connect.ts';
import type { ScriptDefinition } from '../redis/script.ts';

export type RunBinaryScript = (
  keys: readonly string[],
  args: readonly (string | number | Buffer)[],
) => Promise<unknown>;

/**
 * `defineScript` for arguments that carry raw bytes (record data): the same EVALSHA-with-fallback
 * command ioredis registers, called with Buffers, which ioredis sends unchanged.
 */
export function defineBinaryScript(
  redis: RedisClient,
  definition: ScriptDefinition,
): RunBinaryScript {
  if (typeof Reflect.get(redis, definition.name) !== 'function') {
    redis.defineCommand(definition.name, { lua: definition.lua });
  }
  return async (keys, args) => {
    const command: unknown = Reflect.get(redis, definition.name);
    if (typeof command !== 'function') throw new Error(`${definition.name} is not defined`);
    const reply: unknown = await Reflect.apply(command, redis, [keys.length, ...keys, ...args]);
    return reply;
  };
}

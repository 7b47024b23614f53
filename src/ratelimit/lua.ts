import type { ScriptDefinition } from '../redis/script.ts';

// Both scripts read the clock with TIME inside Redis, so gateway instances whose clocks disagree
// still share one timeline. TIME makes a script non-deterministic: Redis 5+ replicates effects,
// and older servers need replicate_commands() before the first write.
const PRELUDE = `
if redis.replicate_commands then pcall(redis.replicate_commands) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
`;

/**
 * GCRA over every key at once (mirrors gcra.ts). ARGV holds rate, burst, cost per key. Consumes
 * from all buckets only if all allow. Reply: {allowed, limitedBy (1-based, 0 = none),
 * retryAfterMs, then remaining and resetMs per key}.
 */
export const CONSUME_SCRIPT: ScriptDefinition = {
  name: 'gwRateLimitConsumeV1',
  lua: `${PRELUDE}
local eps = 0.01
local n = #KEYS
local bases, intervals, taus, costs = {}, {}, {}, {}
local worst, worst_wait = 0, 0
for i = 1, n do
  local rate = tonumber(ARGV[3 * i - 2])
  local burst = tonumber(ARGV[3 * i - 1])
  local cost = tonumber(ARGV[3 * i])
  local interval = 1000 / rate
  local base = now
  local tat = tonumber(redis.call('GET', KEYS[i]) or '')
  if tat and tat > now then base = tat end
  local wait = base + math.min(cost, burst) * interval - burst * interval - now
  if wait > eps and wait > worst_wait then
    worst = i
    worst_wait = wait
  end
  bases[i] = base
  intervals[i] = interval
  taus[i] = burst * interval
  costs[i] = cost
end
local allowed = 0
if worst == 0 then allowed = 1 end
local reply = {allowed, worst, math.ceil(worst_wait)}
for i = 1, n do
  local tat = bases[i]
  if allowed == 1 then
    tat = tat + costs[i] * intervals[i]
    local ttl = math.ceil(tat - now)
    if ttl > 0 then
      redis.call('SET', KEYS[i], string.format('%.17g', tat), 'PX', ttl)
    end
  end
  local used = tat - now
  if used < 0 then used = 0 end
  local remaining = math.floor((taus[i] - used) / intervals[i] + 0.000001)
  if remaining < 0 then remaining = 0 end
  reply[#reply + 1] = remaining
  reply[#reply + 1] = math.ceil(used)
end
return reply
`,
};

/** Gives back what CONSUME_SCRIPT took (Cluster: the stream slot denied after the principal slot consumed). ARGV: rate, cost per key. */
export const REFUND_SCRIPT: ScriptDefinition = {
  name: 'gwRateLimitRefundV1',
  lua: `${PRELUDE}
for i = 1, #KEYS do
  local tat = tonumber(redis.call('GET', KEYS[i]) or '')
  if tat then
    tat = tat - tonumber(ARGV[2 * i]) * 1000 / tonumber(ARGV[2 * i - 1])
    local ttl = math.ceil(tat - now)
    if ttl > 0 then
      redis.call('SET', KEYS[i], string.format('%.17g', tat), 'PX', ttl)
    else
      redis.call('DEL', KEYS[i])
    end
  end
end
return 1
`,
};

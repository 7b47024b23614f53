import { Cluster, type Redis } from 'ioredis';
import type { RedisClient } from './connect.ts';

// What the gateway keeps in Redis must stay there until it is done with it: spool entries until DIS
// has them, idempotency verdicts for their TTL, receipts. An eviction policy other than noeviction
// lets Redis drop them under memory pressure (volatile-* evicts keys with a TTL: idempotency keys,
// receipts; allkeys-* evicts anything, spool streams included), which loses accepted records
// silently. Read at startup; a managed Redis that refuses CONFIG GET is warned about, not refused.

export interface PersistenceFindings {
  /** Settings that can lose acknowledged data: refuse to start in production. */
  readonly refusals: string[];
  readonly warnings: string[];
}

function primariesOf(redis: RedisClient): { name: string; node: Redis }[] {
  if (!(redis instanceof Cluster)) return [{ name: 'Redis', node: redis }];
  return redis.nodes('master').map((node) => ({
    name: `Redis master ${node.options.host ?? '?'}:${String(node.options.port ?? '?')}`,
    node,
  }));
}

async function configValue(node: Redis, name: string): Promise<string | undefined> {
  const reply: unknown = await node.config('GET', name);
  if (!Array.isArray(reply)) return undefined;
  const value: unknown = reply[1];
  return typeof value === 'string' ? value : undefined;
}

function reason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]?.slice(0, 120) ?? 'unknown error';
}

export async function checkRedisPersistence(redis: RedisClient): Promise<PersistenceFindings> {
  const findings: PersistenceFindings = { refusals: [], warnings: [] };
  for (const { name, node } of primariesOf(redis)) {
    let policy: string | undefined;
    let appendonly: string | undefined;
    try {
      policy = await configValue(node, 'maxmemory-policy');
      appendonly = await configValue(node, 'appendonly');
    } catch (error) {
      findings.warnings.push(
        `${name}: cannot read its settings (CONFIG GET: ${reason(error)}); make sure maxmemory-policy is noeviction and AOF is on (README "Redis for production")`,
      );
      continue;
    }
    if (policy !== undefined && policy !== 'noeviction') {
      findings.refusals.push(
        `${name}: maxmemory-policy is ${policy}, which lets Redis evict spooled records, idempotency keys and receipts under memory pressure; set maxmemory-policy noeviction (README "Redis for production")`,
      );
    }
    if (appendonly === 'no') {
      findings.warnings.push(
        `${name}: appendonly is off, so a restart of this Redis loses what was written since its last snapshot (spool, idempotency keys, receipts); set appendonly yes with appendfsync everysec`,
      );
    }
  }
  return findings;
}

import { toKeyPart } from '../redis/key-part.ts';
import type { BucketName, Limit, RateLimitInput, RateLimitPolicy } from './types.ts';

export interface Bucket {
  readonly name: BucketName;
  /** Full Redis key; the `{...}` hash tag is the principal or the stream. */
  readonly key: string;
  readonly scope: 'principal' | 'stream';
  readonly limit: Limit;
  /** Units this request takes: 1 request, its record count, its raw bytes. */
  readonly cost: number;
}

export const DEFAULT_KEY_PREFIX = 'gw:rl';

/**
 * Every bucket a request draws from, principal buckets first. Keys carry the principal or the
 * stream as their hash tag, so in Redis Cluster each group lives in one slot.
 */
export function toBuckets(
  policy: RateLimitPolicy,
  input: RateLimitInput,
  keyPrefix: string = DEFAULT_KEY_PREFIX,
): readonly Bucket[] {
  const principal = policy.forPrincipal(input.principal);
  const stream = policy.forStream(input.stream);
  const p = `${keyPrefix}:{p:${toKeyPart(input.principal)}}`;
  const s = `${keyPrefix}:{s:${toKeyPart(input.stream)}}`;
  const buckets: Bucket[] = [
    {
      name: 'principal-requests',
      key: `${p}:req`,
      scope: 'principal',
      limit: principal.requests,
      cost: 1,
    },
    {
      name: 'principal-records',
      key: `${p}:rec`,
      scope: 'principal',
      limit: principal.records,
      cost: input.records,
    },
    {
      name: 'principal-bytes',
      key: `${p}:bytes`,
      scope: 'principal',
      limit: principal.bytes,
      cost: input.bytes,
    },
  ];
  if (input.principalOnly === true) return buckets;
  buckets.push(
    {
      name: 'stream-records',
      key: `${s}:rec`,
      scope: 'stream',
      limit: stream.records,
      cost: input.records,
    },
    {
      name: 'stream-bytes',
      key: `${s}:bytes`,
      scope: 'stream',
      limit: stream.bytes,
      cost: input.bytes,
    },
  );
  return buckets;
}

import { CodedError, InvalidOptionError } from '../errors/coded-error.ts';
import { createPublicKey } from 'node:crypto';
import { request, type Dispatcher } from 'undici';
import { z } from 'zod';
import type { JwsAlgorithm } from './algorithms.ts';
import { buildKeyIndex, type KeyIndex, type VerificationKey } from './static-keys.ts';

// Keys published by the token issuer. Fetched lazily, cached, and refetched when the cache is older
// than maxAgeMs or a token names a kid we do not have (key rotation). Every fetch, for whatever reason,
// counts against one budget: at most one per refreshIntervalMs, and one at a time. So a stream of
// tokens with made-up kids costs the issuer one request per interval, not one per token.

export interface JwksKeySourceOptions {
  readonly url: string;
  readonly dispatcher?: Dispatcher | undefined;
  readonly now: () => number;
  readonly refreshIntervalMs: number;
  readonly maxAgeMs: number;
  readonly timeoutMs: number;
  /** How long a caller of keysFor waits for a fetch; the fetch itself runs up to timeoutMs. */
  readonly waitMs: number;
  /** A failed fetch keeps the previous keys; this is where the composition root logs it. */
  readonly onError?: ((error: Error) => void) | undefined;
}

export interface JwksKeySource {
  keysFor(kid: string | undefined, algorithm: JwsAlgorithm): Promise<readonly VerificationKey[]>;
  close(): Promise<void>;
}

const MAX_JWKS_BYTES = 512 * 1024;

const JwksDocument = z.object({ keys: z.array(z.unknown()) });

const Jwk = z.looseObject({
  kty: z.string(),
  kid: z.string().optional(),
  use: z.string().optional(),
  alg: z.string().optional(),
  key_ops: z.array(z.string()).optional(),
});

/** One JWK → a verification key, or undefined for keys we must not or cannot use. */
function toVerificationKey(raw: unknown): VerificationKey | undefined {
  const parsed = Jwk.safeParse(raw);
  if (!parsed.success) return undefined;
  const jwk = parsed.data;
  // Symmetric keys have no place in a public key set, private parts even less.
  if (jwk.kty === 'oct' || 'd' in jwk) return undefined;
  if (jwk.use !== undefined && jwk.use !== 'sig') return undefined;
  if (jwk.key_ops !== undefined && !jwk.key_ops.includes('verify')) return undefined;
  try {
    return {
      kid: jwk.kid,
      key: createPublicKey({ key: jwk, format: 'jwk' }),
      algorithm: jwk.alg,
    };
  } catch {
    return undefined;
  }
}

async function readCapped(body: AsyncIterable<unknown>, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (!Buffer.isBuffer(chunk)) throw new CodedError('ERR_JWKS_FETCH', 'JWKS body is not bytes');
    size += chunk.length;
    if (size > limit) throw new CodedError('ERR_JWKS_FETCH', `JWKS document over ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

interface Snapshot {
  readonly index: KeyIndex;
  readonly fetchedAt: number;
}

export function createJwksKeySource(options: JwksKeySourceOptions): JwksKeySource {
  const url = new URL(options.url);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InvalidOptionError('the JWKS URL must be http(s)');
  }
  const closing = new AbortController();
  let snapshot: Snapshot | undefined;
  let lastAttemptAt = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<void> | undefined;

  const fetchKeys = async (): Promise<Snapshot> => {
    const { statusCode, body } = await request(url, {
      method: 'GET',
      headers: { accept: 'application/jwk-set+json, application/json' },
      signal: AbortSignal.any([closing.signal, AbortSignal.timeout(options.timeoutMs)]),
      ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
    });
    if (statusCode !== 200) {
      await body.dump();
      throw new CodedError('ERR_JWKS_FETCH', `JWKS endpoint answered ${statusCode}`);
    }
    let text: string;
    try {
      text = await readCapped(body, MAX_JWKS_BYTES);
    } finally {
      body.destroy();
    }
    const document = JwksDocument.parse(JSON.parse(text));
    const keys = document.keys.map(toVerificationKey).filter((key) => key !== undefined);
    return { index: buildKeyIndex(keys), fetchedAt: options.now() };
  };

  const refresh = (): Promise<void> => {
    if (inFlight !== undefined) return inFlight;
    lastAttemptAt = options.now();
    inFlight = fetchKeys()
      .then(
        (fresh) => {
          snapshot = fresh;
        },
        (error: unknown) => {
          if (!closing.signal.aborted) {
            options.onError?.(error instanceof Error ? error : new Error(String(error)));
          }
        },
      )
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };

  /** A fetch is running (join it) or the budget allows a new one. */
  const mayRefresh = (): boolean =>
    !closing.signal.aborted &&
    (inFlight !== undefined || options.now() - lastAttemptAt >= options.refreshIntervalMs);

  /** The fetch, bounded for this caller: a hung endpoint must not hold every request for timeoutMs. */
  const refreshFor = async (): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, options.waitMs);
    });
    try {
      await Promise.race([refresh(), waited]);
    } finally {
      clearTimeout(timer);
    }
  };

  const select = (kid: string | undefined, algorithm: JwsAlgorithm): readonly VerificationKey[] =>
    snapshot?.index.select(kid, algorithm) ?? [];

  return {
    keysFor: async (kid, algorithm) => {
      const stale =
        snapshot === undefined || options.now() - snapshot.fetchedAt >= options.maxAgeMs;
      // One bounded wait per request: a second would double what a hung endpoint costs it.
      const waited = stale && mayRefresh();
      if (waited) await refreshFor();
      const found = select(kid, algorithm);
      if (found.length > 0 || kid === undefined || waited || !mayRefresh()) return found;
      // An unknown kid may be a key the issuer has just rotated in.
      await refreshFor();
      return select(kid, algorithm);
    },
    close: async () => {
      closing.abort();
      await inFlight;
    },
  };
}

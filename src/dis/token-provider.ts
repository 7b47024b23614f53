import { z } from 'zod';
import { DisError, DisHttpError } from './errors.ts';
import type { Dispatcher } from 'undici';
import { createTransport, DEFAULT_TIMEOUTS } from './transport.ts';

// IAM token mode (dis-api.md §6.1): password auth scoped to the project, token cached and refreshed
// ahead of expiry by one in-flight request that every caller shares.

export interface IamUser {
  readonly name: string;
  readonly password: string;
  /** The account (domain) name. */
  readonly domain: string;
}

export interface TokenProviderOptions {
  /** e.g. `https://iam.cn-north-4.myhuaweicloud.com`; gets its own keep-alive pool. */
  readonly endpoint: string;
  readonly dispatcher?: Dispatcher | undefined;
  readonly user: IamUser;
  readonly projectId: string;
  readonly now: () => number;
  /** Refresh this long before `expires_at` (default 1 h, IAM tokens live 24 h). */
  readonly refreshAheadMs?: number | undefined;
  readonly requestTimeoutMs?: number | undefined;
  /** After a failed early refresh, keep using the valid token this long before trying again. */
  readonly retryIntervalMs?: number | undefined;
}

export interface TokenProvider {
  /** A valid token, from cache when it is not due for refresh. */
  readonly getToken: () => Promise<string>;
  /** DIS said this token is no good (401): the next getToken fetches a new one. */
  readonly invalidate: (token: string) => void;
  readonly close: () => Promise<void>;
}

const TokenBody = z.object({ token: z.object({ expires_at: z.string() }) });

interface CachedToken {
  readonly value: string;
  readonly expiresAt: number;
}

export function createIamTokenProvider(options: TokenProviderOptions): TokenProvider {
  const refreshAheadMs = options.refreshAheadMs ?? 60 * 60 * 1000;
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  const retryIntervalMs = options.retryIntervalMs ?? 30_000;
  let nextEarlyRefreshAt = 0;
  const body = JSON.stringify({
    auth: {
      identity: {
        methods: ['password'],
        password: {
          user: {
            name: options.user.name,
            password: options.user.password,
            domain: { name: options.user.domain },
          },
        },
      },
      scope: { project: { id: options.projectId } },
    },
  });
  const transport = createTransport({
    origin: new URL(options.endpoint).origin,
    timeouts: { ...DEFAULT_TIMEOUTS, headersMs: timeoutMs, bodyMs: timeoutMs },
    dispatcher: options.dispatcher,
    connections: 2,
    now: options.now,
  });
  let cached: CachedToken | undefined;
  let inFlight: Promise<CachedToken> | undefined;

  const fetchToken = async (): Promise<CachedToken> => {
    let response;
    try {
      response = await transport.send({
        method: 'POST',
        path: '/v3/auth/tokens?nocatalog=true',
        headers: { 'Content-Type': 'application/json;charset=utf8' },
        body,
      });
    } catch (error) {
      const status = error instanceof DisHttpError ? ` (${error.status})` : '';
      throw new DisError('ERR_DIS_IAM', `IAM did not issue a token${status}`, { cause: error });
    }
    const subject = response.headers['x-subject-token'];
    const value = Array.isArray(subject) ? subject[0] : subject;
    let parsed: z.infer<typeof TokenBody> | undefined;
    try {
      parsed = TokenBody.parse(JSON.parse(response.text));
    } catch (error) {
      throw new DisError('ERR_DIS_IAM', 'IAM answered without a readable token body', {
        cause: error,
      });
    }
    const expiresAt = Date.parse(parsed.token.expires_at);
    if (value === undefined || value === '' || Number.isNaN(expiresAt)) {
      throw new DisError('ERR_DIS_IAM', 'IAM answered without X-Subject-Token or expires_at');
    }
    return { value, expiresAt };
  };

  const refresh = (): Promise<CachedToken> => {
    inFlight ??= fetchToken()
      .then((token) => {
        cached = token;
        return token;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };

  return {
    getToken: async () => {
      const now = options.now();
      if (cached !== undefined && now < cached.expiresAt - refreshAheadMs) return cached.value;
      if (cached !== undefined && now < cached.expiresAt) {
        // Due for refresh but still valid: a failed refresh must not fail the caller, and must not
        // send every caller to IAM while IAM is down.
        if (now < nextEarlyRefreshAt) return cached.value;
        const current = cached.value;
        try {
          return (await refresh()).value;
        } catch {
          nextEarlyRefreshAt = options.now() + retryIntervalMs;
          return current;
        }
      }
      return (await refresh()).value;
    },
    invalidate: (token) => {
      if (cached?.value === token) cached = undefined;
    },
    close: () => transport.close(),
  };
}

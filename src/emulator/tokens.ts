import { randomBytes } from 'node:crypto';

export interface IssuedToken {
  readonly token: string;
  readonly userName: string;
  readonly domainName: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

/** IAM tokens the emulator issued; expiry is judged on the injected clock. */
export interface TokenStore {
  issue(userName: string, domainName: string, now: number): IssuedToken;
  lookup(token: string, now: number): IssuedToken | 'expired' | undefined;
}

export function createTokenStore(ttlMs: number): TokenStore {
  const tokens = new Map<string, IssuedToken>();
  return {
    issue(userName, domainName, now) {
      // Real tokens are long opaque strings starting with "MII"; the prefix helps spot them in logs.
      const issued: IssuedToken = {
        token: `MII${randomBytes(96).toString('base64url')}`,
        userName,
        domainName,
        issuedAt: now,
        expiresAt: now + ttlMs,
      };
      tokens.set(issued.token, issued);
      for (const [key, old] of tokens) if (old.expiresAt <= now) tokens.delete(key);
      return issued;
    },
    lookup(token, now) {
      const issued = tokens.get(token);
      if (issued === undefined) return undefined;
      return issued.expiresAt <= now ? 'expired' : issued;
    },
  };
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import type { JwtVerifierOptions } from '../../src/auth/jwt-verifier.ts';
import {
  AUDIENCE,
  ISSUER,
  NOW_MS,
  NOW_S,
  randomSecret,
  testJwtVerifier,
} from '../helpers/jwt-tokens.ts';

describe('verified-token cache', () => {
  const secret = randomSecret();
  const token = (claims: object) =>
    jwt.sign({ iss: ISSUER, aud: AUDIENCE, sub: 'svc', scope: 'dis:write:a', ...claims }, secret, {
      algorithm: 'HS256',
    });
  const setup = (overrides: Partial<JwtVerifierOptions> = {}) => {
    let now = NOW_MS;
    const verifier = testJwtVerifier({
      secrets: [secret],
      clockToleranceS: 10,
      now: () => now,
      ...overrides,
    });
    return {
      verifier,
      advance: (ms: number) => {
        now += ms;
      },
    };
  };
  const bearer = (t: string) => [`Bearer ${t}`];

  it('accepts a reused token from the cache and still refuses it once it has expired', async () => {
    const { verifier, advance } = setup();
    const t = token({ iat: NOW_S, exp: NOW_S + 60 });
    assert.equal((await verifier.authenticate(bearer(t))).id, 'svc');
    advance(60_000 + 9_000);
    assert.equal((await verifier.authenticate(bearer(t))).id, 'svc', 'inside the tolerance');
    advance(1_000);
    await assert.rejects(verifier.authenticate(bearer(t)), { code: 'ERR_AUTH_INVALID_TOKEN' });
  });

  it('respects the maximum token age like verification does', async () => {
    const { verifier, advance } = setup({ maxTokenAgeS: 30 });
    const t = token({ iat: NOW_S, exp: NOW_S + 3600 });
    await verifier.authenticate(bearer(t));
    advance(40_000);
    await assert.rejects(verifier.authenticate(bearer(t)), { code: 'ERR_AUTH_INVALID_TOKEN' });
  });

  it('never caches a refused token, and a size of 0 turns the cache off', async () => {
    const { verifier } = setup({ verifiedCacheSize: 0 });
    const t = token({ iat: NOW_S, exp: NOW_S + 60 });
    await verifier.authenticate(bearer(t));
    const tampered = `${t.slice(0, -2)}xx`;
    await assert.rejects(verifier.authenticate(bearer(tampered)), {
      code: 'ERR_AUTH_INVALID_TOKEN',
    });
    await assert.rejects(verifier.authenticate(bearer(tampered)), {
      code: 'ERR_AUTH_INVALID_TOKEN',
    });
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import { authorizeStream } from '../../src/auth/principal.ts';
import { mintToken } from '../../src/auth/mint-token.ts';
import {
  AUDIENCE,
  ISSUER,
  NOW_MS,
  assertInvalidToken,
  bearer,
  randomSecret,
  testJwtVerifier,
} from '../helpers/jwt-tokens.ts';

const secret = randomSecret();

function verifierAt(nowMs: number, algorithms: string[] = ['HS256']) {
  return testJwtVerifier({ algorithms, secrets: [secret], now: () => nowMs });
}

const mint = (overrides: Partial<Parameters<typeof mintToken>[0]> = {}) =>
  mintToken({
    secret,
    issuer: ISSUER,
    audience: AUDIENCE,
    subject: 'dev',
    scopes: ['dis:write:clicks', 'dis:write:orders'],
    lifetimeS: 600,
    now: NOW_MS,
    ...overrides,
  });

describe('mintToken', () => {
  it('mints a token the verifier accepts, with its subject and scopes', async () => {
    const principal = await verifierAt(NOW_MS).authenticate(bearer(mint()));
    assert.equal(principal.id, 'dev');
    authorizeStream(principal, 'clicks');
    authorizeStream(principal, 'orders');
  });

  it('sets iat from the given clock and exp from the lifetime', () => {
    const decoded = jwt.decode(mint({ lifetimeS: 60 }), { complete: true });
    assert.ok(decoded !== null && typeof decoded.payload === 'object');
    assert.equal(decoded.header.alg, 'HS256');
    assert.equal(decoded.payload.iat, NOW_MS / 1000);
    assert.equal(decoded.payload.exp, NOW_MS / 1000 + 60);
  });

  it('the token stops working once its lifetime and the tolerance are over', async () => {
    const token = mint({ lifetimeS: 60 });
    await verifierAt(NOW_MS + 89_000).authenticate(bearer(token));
    await assertInvalidToken(verifierAt(NOW_MS + 91_000).authenticate(bearer(token)));
  });

  it('HS512 is available and only accepted where allowed', async () => {
    const token = mint({ algorithm: 'HS512' });
    await assertInvalidToken(verifierAt(NOW_MS).authenticate(bearer(token)));
    const principal = await verifierAt(NOW_MS, ['HS512']).authenticate(bearer(token));
    assert.equal(principal.id, 'dev');
  });

  it('refuses a short secret, a scope with a space and a non-positive lifetime', () => {
    assert.throws(() => mint({ secret: 'dev-secret' }), /32 bytes/);
    assert.throws(() => mint({ scopes: ['dis:write:a dis:write:b'] }), /invalid scope/);
    assert.throws(() => mint({ lifetimeS: 0 }), /lifetime/);
    assert.throws(() => mint({ subject: '' }), /subject/);
  });
});

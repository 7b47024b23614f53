import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import { startGateway, testClaims as claims, type TestGateway } from '../helpers/gateway.ts';
import { startJwksServer, toJwk, type JwksServer } from '../helpers/jwt-jwks-server.ts';
import { rsaKeyPair } from '../helpers/jwt-tokens.ts';

// auth.jwt.hs_keys and auth.jwt.jwks_fetch_timeout_ms through the composed gateway over HTTP: the
// config keys reach the verifier the way main.ts builds it.

const opened: { close: () => Promise<void> }[] = [];
after(async () => {
  await Promise.all(opened.map((o) => o.close()));
});

async function gatewayWith(
  jwtSection: Record<string, unknown>,
  env: Record<string, string>,
): Promise<TestGateway> {
  const gw = await startGateway({
    streams: [{ name: 'clicks', partitions: 1 }],
    env: { GATEWAY_CONFIG: '/virtual/jwt.json', ...env },
    readFile: (path) => {
      if (path !== '/virtual/jwt.json') throw new Error(`no file ${path} in this test`);
      return JSON.stringify({ auth: { jwt: jwtSection } });
    },
  });
  opened.push(gw);
  return gw;
}

const post = (gw: TestGateway, token: string) =>
  gw.postRaw('/v1/streams/clicks/records', Buffer.from('{"records":[{"data":1}]}'), {
    Authorization: `Bearer ${token}`,
    'Content-Type': 'application/json',
  });

describe('JWT interop through the gateway', () => {
  it('an HS256 token stamped with a kid is accepted with the secret hs_keys names for that kid', async () => {
    const named = randomBytes(32).toString('base64url');
    const gw = await gatewayWith(
      { hs_keys: [{ kid: 'issuer-hs-1', secret_env: 'ISSUER_HS_SECRET' }] },
      { ISSUER_HS_SECRET: named },
    );
    const ok = await post(
      gw,
      jwt.sign(claims(), named, { algorithm: 'HS256', keyid: 'issuer-hs-1' }),
    );
    assert.equal(ok.status, 200, ok.text);
    // The unnamed JWT_SECRET does not stand in for a kid it was not given.
    const other = await post(gw, jwt.sign(claims(), gw.secret, { algorithm: 'HS256', keyid: 'x' }));
    assert.equal(other.status, 401, other.text);
    // Tokens without a kid keep working with JWT_SECRET, as before.
    const plain = await post(gw, jwt.sign(claims(), gw.secret, { algorithm: 'HS256' }));
    assert.equal(plain.status, 200, plain.text);
  });

  it('while the JWKS endpoint hangs, the 401 comes back within jwks_fetch_timeout_ms, not after 5 s', async () => {
    const rsa = rsaKeyPair();
    const jwks: JwksServer = await startJwksServer([toJwk(rsa.publicKey, { kid: 'rsa-1' })]);
    opened.push(jwks);
    jwks.hold();
    const gw = await gatewayWith(
      { jwks_fetch_timeout_ms: 300 },
      { JWKS_URL: jwks.jwksUrl, JWT_ALGORITHMS: 'RS256' },
    );
    const token = jwt.sign(claims(), rsa.privateKey, { algorithm: 'RS256', keyid: 'rsa-1' });
    const started = performance.now();
    const res = await post(gw, token);
    const elapsed = performance.now() - started;
    assert.equal(res.status, 401, res.text);
    assert.ok(elapsed < 2_500, `waited ${Math.round(elapsed)} ms`);
    jwks.release();
  });
});

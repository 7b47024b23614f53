import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthError, type AuthFailureReason } from '../../src/auth/auth-errors.ts';
import { createJwtVerifier } from '../../src/auth/jwt-verifier.ts';
import { toProblem } from '../../src/errors/app-error.ts';
import {
  AUDIENCE,
  ISSUER,
  NOW_MS,
  NOW_S,
  bearer,
  claims,
  craftToken,
  hmacSigner,
  randomSecret,
  signJwt,
} from '../helpers/jwt-tokens.ts';

// Every refused token says why (for gateway_auth_failures_total and the log), while the caller
// gets the same 401 whatever the reason.

const secret = randomSecret();
const verifier = createJwtVerifier({
  algorithms: ['HS256'],
  issuer: [ISSUER],
  audience: [AUDIENCE],
  secrets: [secret],
  principalClaim: 'sub',
  scopeClaim: 'scope',
  clockToleranceS: 30,
  maxTokenAgeS: 3600,
  verifiedCacheSize: 0,
  now: () => NOW_MS,
});
const hs = (payload: Record<string, unknown>, key = secret): string =>
  signJwt(payload, key, 'HS256');

async function reasonFor(authorization: string[] | undefined): Promise<AuthFailureReason> {
  try {
    await verifier.authenticate(authorization);
  } catch (error) {
    assert.ok(error instanceof AuthError, `expected an AuthError, got ${String(error)}`);
    return error.reason;
  }
  assert.fail('the token was accepted');
}

describe('why a bearer token was refused', () => {
  const cases: [string, () => string[] | undefined, AuthFailureReason][] = [
    ['no Authorization header', () => undefined, 'missing'],
    ['two Authorization headers', () => ['Bearer a', 'Bearer b'], 'invalid_request'],
    ['a Basic credential', () => ['Basic dXNlcjpwYXNz'], 'malformed'],
    ['two segments', () => bearer('abc.def'), 'malformed'],
    ['a token over the size limit', () => bearer('a'.repeat(9000)), 'too_large'],
    [
      'an algorithm outside the allow-list',
      () => bearer(craftToken({ alg: 'none' }, claims())),
      'algorithm_not_allowed',
    ],
    [
      'a crit header',
      () => bearer(craftToken({ alg: 'HS256', crit: ['x'] }, claims(), hmacSigner(secret))),
      'crit_header',
    ],
    ['another secret', () => bearer(hs(claims(), randomSecret())), 'bad_signature'],
    ['an expired token', () => bearer(hs(claims({ exp: NOW_S - 3600 }))), 'expired'],
    ['a token not valid yet', () => bearer(hs(claims({ nbf: NOW_S + 3600 }))), 'not_yet_valid'],
    [
      'a token older than the maximum age',
      () => bearer(hs(claims({ iat: NOW_S - 7200 }))),
      'too_old',
    ],
    ['another issuer', () => bearer(hs(claims({ iss: 'https://elsewhere' }))), 'wrong_issuer'],
    ['another audience', () => bearer(hs(claims({ aud: 'someone-else' }))), 'wrong_audience'],
    ['no exp', () => bearer(hs(claims({ exp: undefined }))), 'claims'],
    ['an empty subject', () => bearer(hs(claims({ sub: '' }))), 'claims'],
  ];
  for (const [scenario, authorization, reason] of cases) {
    it(`${scenario}: ${reason}`, async () => {
      assert.equal(await reasonFor(authorization()), reason);
    });
  }

  it('the reason never reaches the caller: the problem is the same for all of them', async () => {
    const bodies = new Set<string>();
    for (const token of [hs(claims({ exp: NOW_S - 3600 })), hs(claims({ aud: 'x' }))]) {
      try {
        await verifier.authenticate(bearer(token));
      } catch (error) {
        bodies.add(JSON.stringify(toProblem(error).body));
      }
    }
    assert.equal(bodies.size, 1);
    assert.doesNotMatch([...bodies][0] ?? '', /expired|audience/);
  });
});

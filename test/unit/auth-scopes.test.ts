import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JwtVerifierOptions } from '../../src/auth/jwt-verifier.ts';
import { authorizeStream, requiredScope, type Principal } from '../../src/auth/principal.ts';
import { AppError, toProblem } from '../../src/errors/app-error.ts';
import {
  assertInvalidToken,
  bearer,
  claims,
  randomSecret,
  signJwt,
  testJwtVerifier,
} from '../helpers/jwt-tokens.ts';

const principal = (...scopes: string[]): Principal => ({ id: 'svc', scopes: new Set(scopes) });

function denial(p: Principal, stream: string): AppError {
  try {
    authorizeStream(p, stream);
  } catch (error) {
    assert.ok(error instanceof AppError);
    return error;
  }
  return assert.fail(`${[...p.scopes].join(' ')} was allowed to write ${stream}`);
}

describe('stream scopes', () => {
  it('the scope for a stream is dis:write:<stream>', () => {
    assert.equal(requiredScope('clicks'), 'dis:write:clicks');
  });

  it('the exact scope or dis:write:* grants the stream', () => {
    authorizeStream(principal('dis:write:clicks'), 'clicks');
    authorizeStream(principal('dis:read:clicks', 'dis:write:*'), 'clicks');
    authorizeStream(principal('dis:write:orders', 'dis:write:clicks'), 'clicks');
  });

  const tricks: [string, string[]][] = [
    ['a shorter prefix', ['dis:write:click']],
    ['a longer name', ['dis:write:clicks-x']],
    ['another case', ['dis:write:Clicks']],
    ['an empty stream part', ['dis:write:']],
    ['a double star', ['dis:write:**']],
    ['a star suffix', ['dis:write:click*']],
    ['a broader prefix', ['dis:write']],
    ['a bare star', ['*']],
    ['another verb', ['dis:read:clicks', 'dis:admin:*']],
    ['a padded scope', [' dis:write:clicks', 'dis:write:clicks ']],
    ['no scopes at all', []],
  ];
  for (const [name, scopes] of tricks) {
    it(`${name} (${JSON.stringify(scopes)}) does not grant clicks`, () => {
      const problem = toProblem(denial(principal(...scopes), 'clicks'));
      assert.equal(problem.status, 403);
      assert.equal(problem.body.code, 'ERR_AUTH_INSUFFICIENT_SCOPE');
      assert.deepEqual(problem.headers, {
        'WWW-Authenticate':
          'Bearer realm="dis-gateway", error="insufficient_scope", scope="dis:write:clicks"',
      });
      assert.match(String(problem.body.detail), /"dis:write:clicks"/);
    });
  }

  it('dis:write: and dis:write:* never grant an empty stream name', () => {
    assert.equal(denial(principal('dis:write:', 'dis:write:*'), '').status, 403);
  });

  it('a stream name that cannot sit in a quoted-string is left out of the challenge', () => {
    const problem = toProblem(denial(principal(), 'a"b'));
    assert.deepEqual(problem.headers, {
      'WWW-Authenticate': 'Bearer realm="dis-gateway", error="insufficient_scope"',
    });
  });
});

describe('scopes read from the token', () => {
  const secret = randomSecret();
  const verifier = (overrides: Partial<JwtVerifierOptions> = {}) =>
    testJwtVerifier({ secrets: [secret], clockToleranceS: 0, ...overrides });
  const scopesOf = async (scope: unknown, overrides: Partial<JwtVerifierOptions> = {}) => {
    const token = signJwt(claims({ scope }), secret, 'HS256');
    return [...(await verifier(overrides).authenticate(bearer(token))).scopes].sort();
  };

  it('a space-separated string gives one scope per word, ignoring extra spaces', async () => {
    assert.deepEqual(await scopesOf('  dis:write:b   dis:write:a '), [
      'dis:write:a',
      'dis:write:b',
    ]);
  });

  it('an array of strings gives its members as they are', async () => {
    assert.deepEqual(await scopesOf(['dis:write:a', 'dis:write:b c']), [
      'dis:write:a',
      'dis:write:b c',
    ]);
  });

  it('a token without the scope claim authenticates with no scopes', async () => {
    assert.deepEqual(await scopesOf(undefined), []);
  });

  it('the configured scope claim is read instead of scope', async () => {
    const token = signJwt(claims({ scope: 'dis:write:a', scp: ['dis:write:b'] }), secret, 'HS256');
    const p = await verifier({ scopeClaim: 'scp' }).authenticate(bearer(token));
    assert.deepEqual([...p.scopes], ['dis:write:b']);
  });

  for (const [name, scope] of [
    ['a number', 42],
    ['an object', { 'dis:write:a': true }],
    ['an array holding a non-string', ['dis:write:a', 7]],
  ] as const) {
    it(`a scope claim that is ${name} makes the token invalid`, async () => {
      const token = signJwt(claims({ scope }), secret, 'HS256');
      await assertInvalidToken(verifier().authenticate(bearer(token)));
    });
  }
});

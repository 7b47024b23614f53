import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractBearerToken } from '../../src/auth/bearer.ts';
import { toProblem } from '../../src/errors/app-error.ts';
import { INVALID_TOKEN_BODY } from '../helpers/jwt-tokens.ts';

const MAX = 8192;

function problemOf(authorization: readonly string[] | undefined, max = MAX) {
  try {
    extractBearerToken(authorization, max);
  } catch (error) {
    return toProblem(error);
  }
  return assert.fail('the header was accepted');
}

describe('Authorization header parsing', () => {
  it('a missing header is a 401 whose challenge carries only the realm', () => {
    for (const missing of [undefined, [], ['']]) {
      const problem = problemOf(missing);
      assert.equal(problem.status, 401);
      assert.deepEqual(problem.headers, { 'WWW-Authenticate': 'Bearer realm="dis-gateway"' });
      assert.deepEqual(problem.body, INVALID_TOKEN_BODY);
    }
  });

  it('two Authorization headers are a 400 invalid_request, even if both are good', () => {
    const problem = problemOf(['Bearer a.b.c', 'Bearer a.b.c']);
    assert.equal(problem.status, 400);
    assert.equal(problem.body.code, 'ERR_AUTH_INVALID_REQUEST');
    assert.deepEqual(problem.headers, { 'WWW-Authenticate': 'Bearer error="invalid_request"' });
  });

  const rejected: [string, string][] = [
    ['the Basic scheme', 'Basic c3ZjOnB3'],
    ['a Bearer with two tokens', 'Bearer a.b.c d.e.f'],
    ['a Bearer followed by a comma and another credential', 'Bearer a.b.c, Basic c3ZjOnB3'],
    ['a trailing comma', 'Bearer a.b.c,'],
    ['trailing whitespace', 'Bearer a.b.c '],
    ['the scheme alone', 'Bearer'],
    ['the scheme and a space', 'Bearer '],
    ['a token without a scheme', 'a.b.c'],
    ['a tab instead of a space', 'Bearer\ta.b.c'],
    ['a quoted token', 'Bearer "a.b.c"'],
    ['a scheme prefix trick', 'Bearerx a.b.c'],
    ['padding in the middle of the token', 'Bearer a=.b.c'],
    ['a non-ASCII character', 'Bearer a.b.cé'],
  ];
  for (const [name, value] of rejected) {
    it(`${name} is a 401 invalid_token with the shared body`, () => {
      const problem = problemOf([value]);
      assert.equal(problem.status, 401);
      assert.deepEqual(problem.body, INVALID_TOKEN_BODY);
      assert.deepEqual(problem.headers, {
        'WWW-Authenticate': 'Bearer realm="dis-gateway", error="invalid_token"',
      });
    });
  }

  it('the token is everything after the scheme, in any scheme casing', () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      assert.equal(extractBearerToken([`${scheme} ab-_.~+/cd==`], MAX), 'ab-_.~+/cd==');
    }
    assert.equal(extractBearerToken(['Bearer  a.b.c'], MAX), 'a.b.c');
  });

  it('a token of exactly the limit passes and one byte more is a 401', () => {
    assert.equal(extractBearerToken([`Bearer ${'a'.repeat(MAX)}`], MAX).length, MAX);
    assert.equal(problemOf([`Bearer ${'a'.repeat(MAX + 1)}`]).status, 401);
    assert.equal(problemOf([`Bearer ${'a'.repeat(MAX * 100)}`]).status, 401);
    assert.equal(problemOf([`Bearer ${'a'.repeat(101)}`], 100).status, 401);
  });
});

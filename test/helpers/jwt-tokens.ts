import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { createJwtVerifier } from '../../src/auth/jwt-verifier.ts';
import type { JwtVerifierOptions, TokenVerifier } from '../../src/auth/jwt-verifier.ts';
import { AppError, toProblem } from '../../src/errors/app-error.ts';

export const ISSUER = 'https://auth.test';
export const AUDIENCE = 'dis-gateway';
/** A fixed instant for every verifier and token in the auth tests. */
export const NOW_MS = Date.UTC(2025, 0, 15, 12, 0, 0);
export const NOW_S = NOW_MS / 1000;

export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * A verifier of the auth tests' tokens: HS256, ISSUER and AUDIENCE, `sub` and `scope` claims, 30 s
 * of clock tolerance at NOW_MS. The test names its keys (`secrets`, `publicKeys` or `jwksUrl`) and
 * whatever else it is about.
 */
export function testJwtVerifier(options: Partial<JwtVerifierOptions>): TokenVerifier {
  return createJwtVerifier({
    algorithms: ['HS256'],
    issuer: [ISSUER],
    audience: [AUDIENCE],
    principalClaim: 'sub',
    scopeClaim: 'scope',
    clockToleranceS: 30,
    now: () => NOW_MS,
    ...options,
  });
}

export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly publicPem: string;
}

export function rsaKeyPair(modulusLength = 2048): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength });
  return {
    privateKey,
    publicKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export function ecKeyPair(namedCurve: 'P-256' | 'P-384' = 'P-256'): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
  return {
    privateKey,
    publicKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** Claims a default verifier accepts at NOW_S; `undefined` in overrides removes a claim. */
export function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const merged: Record<string, unknown> = {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'svc-orders',
    scope: 'dis:write:clicks',
    iat: NOW_S - 10,
    exp: NOW_S + 300,
    ...overrides,
  };
  return Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== undefined));
}

/**
 * A token signed by jsonwebtoken. Its own clock plays no part: iat comes from `payload` or is left
 * out (jsonwebtoken would otherwise add the real time).
 */
export function signJwt(
  payload: Record<string, unknown>,
  key: KeyObject | string,
  algorithm: jwt.Algorithm,
  header: Record<string, unknown> = {},
): string {
  return jwt.sign(payload, key, {
    algorithm,
    header: { alg: algorithm, ...header },
    noTimestamp: !Object.hasOwn(payload, 'iat'),
  });
}

export function b64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Hand-made JWS for shapes jsonwebtoken refuses to produce. */
export function craftToken(
  header: unknown,
  payload: unknown,
  signature: (signingInput: string) => string = () => 'c2lnbmF0dXJl',
): string {
  const signingInput = `${b64urlJson(header)}.${b64urlJson(payload)}`;
  return `${signingInput}.${signature(signingInput)}`;
}

export function hmacSigner(secret: string | Buffer, hash = 'sha256'): (input: string) => string {
  return (input) => createHmac(hash, secret).update(input).digest('base64url');
}

export function rs256Signer(privateKey: KeyObject): (input: string) => string {
  return (input) => sign('sha256', Buffer.from(input), privateKey).toString('base64url');
}

export function bearer(token: string): string[] {
  return [`Bearer ${token}`];
}

/** The one body every 401 carries, whatever check failed. */
export const INVALID_TOKEN_BODY = {
  type: 'urn:dis-gateway:problem:auth-invalid-token',
  title: 'Missing or invalid bearer token',
  status: 401,
  code: 'ERR_AUTH_INVALID_TOKEN',
  detail: 'The request needs a valid bearer token.',
};

export async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof AppError, `expected an AppError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection, the token was accepted');
}

/** 401 invalid_token with exactly the shared body: no hint of which check failed. */
export async function assertInvalidToken(promise: Promise<unknown>): Promise<void> {
  const error = await rejection(promise);
  const problem = toProblem(error);
  assert.equal(problem.status, 401);
  assert.deepEqual(problem.body, INVALID_TOKEN_BODY);
  assert.deepEqual(problem.headers, {
    'WWW-Authenticate': 'Bearer realm="dis-gateway", error="invalid_token"',
  });
}

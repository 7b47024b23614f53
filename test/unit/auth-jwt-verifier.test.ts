import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JwtVerifierOptions, TokenVerifier } from '../../src/auth/jwt-verifier.ts';
import {
  AUDIENCE,
  ISSUER,
  NOW_S,
  assertInvalidToken,
  b64urlJson,
  bearer,
  claims,
  craftToken,
  ecKeyPair,
  hmacSigner,
  randomSecret,
  rs256Signer,
  rsaKeyPair,
  signJwt,
  testJwtVerifier,
} from '../helpers/jwt-tokens.ts';

const secret = randomSecret();
const rsa = rsaKeyPair();
const ec = ecKeyPair('P-256');

function verifier(overrides: Partial<JwtVerifierOptions> = {}): TokenVerifier {
  return testJwtVerifier({ secrets: [secret], ...overrides });
}

const rsVerifier = (overrides: Partial<JwtVerifierOptions> = {}) =>
  verifier({
    algorithms: ['RS256'],
    secrets: [],
    publicKeys: [{ pem: rsa.publicPem }],
    ...overrides,
  });

const hs = (payload: Record<string, unknown>, header: Record<string, unknown> = {}): string =>
  signJwt(payload, secret, 'HS256', header);

describe('JWT verifier: positive controls', () => {
  it('an HS256 token with the configured secret yields its subject and scopes', async () => {
    const principal = await verifier().authenticate(
      bearer(hs(claims({ scope: 'dis:write:clicks dis:write:orders' }))),
    );
    assert.equal(principal.id, 'svc-orders');
    assert.deepEqual([...principal.scopes].sort(), ['dis:write:clicks', 'dis:write:orders']);
  });

  it('during secret rotation a token signed with either secret is accepted', async () => {
    const next = randomSecret();
    const v = verifier({ secrets: [secret, next] });
    const principal = await v.authenticate(bearer(signJwt(claims(), next, 'HS256')));
    assert.equal(principal.id, 'svc-orders');
    await v.authenticate(bearer(hs(claims())));
  });

  it('the scheme is matched case-insensitively', async () => {
    const token = hs(claims());
    for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
      const principal = await verifier().authenticate([`${scheme} ${token}`]);
      assert.equal(principal.id, 'svc-orders');
    }
  });

  it('an RS256 token is verified with the configured PEM public key, with or without a kid', async () => {
    const v = rsVerifier({ publicKeys: [{ kid: 'rsa-1', pem: rsa.publicPem }] });
    const withKid = signJwt(claims(), rsa.privateKey, 'RS256', { kid: 'rsa-1' });
    const withoutKid = signJwt(claims(), rsa.privateKey, 'RS256');
    assert.equal((await v.authenticate(bearer(withKid))).id, 'svc-orders');
    assert.equal((await v.authenticate(bearer(withoutKid))).id, 'svc-orders');
  });

  it('an ES256 token is verified with a P-256 PEM public key', async () => {
    const v = verifier({ algorithms: ['ES256'], secrets: [], publicKeys: [{ pem: ec.publicPem }] });
    const principal = await v.authenticate(bearer(signJwt(claims(), ec.privateKey, 'ES256')));
    assert.equal(principal.id, 'svc-orders');
  });

  it('aud may be an array that contains the configured audience', async () => {
    const token = hs(claims({ aud: ['other-service', AUDIENCE] }));
    assert.equal((await verifier().authenticate(bearer(token))).id, 'svc-orders');
  });

  it('a token expired by less than the clock tolerance is still accepted', async () => {
    const token = hs(claims({ exp: NOW_S - 20 }));
    assert.equal((await verifier().authenticate(bearer(token))).id, 'svc-orders');
  });

  it('a token whose nbf is ahead by less than the clock tolerance is accepted', async () => {
    const token = hs(claims({ nbf: NOW_S + 20 }));
    assert.equal((await verifier().authenticate(bearer(token))).id, 'svc-orders');
  });
});

describe('JWT verifier: algorithm attacks', () => {
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    it(`an unsigned token with alg "${alg}" is rejected, with or without a signature part`, async () => {
      const unsigned = `${b64urlJson({ alg, typ: 'JWT' })}.${b64urlJson(claims())}.`;
      await assertInvalidToken(verifier().authenticate(bearer(unsigned)));
      const withJunk = craftToken({ alg, typ: 'JWT' }, claims(), hmacSigner(secret));
      await assertInvalidToken(verifier().authenticate(bearer(withJunk)));
    });
  }

  for (const alg of ['none', 'None', 'NONE']) {
    it(`a configuration that lists "${alg}" is refused at startup`, () => {
      assert.throws(() => verifier({ algorithms: ['HS256', alg] }), /never accepted/);
    });
  }

  it('an algorithm outside the allow-list is rejected even when correctly signed (HS384 vs HS256)', async () => {
    const token = signJwt(claims(), secret, 'HS384');
    await assertInvalidToken(verifier().authenticate(bearer(token)));
    // Control: the same token passes once HS384 is allowed.
    const both = verifier({ algorithms: ['HS256', 'HS384'] });
    assert.equal((await both.authenticate(bearer(token))).id, 'svc-orders');
  });

  it('an HS256 token signed with the RSA public key PEM as HMAC secret is rejected (RS256 allowed)', async () => {
    const forged = craftToken({ alg: 'HS256', typ: 'JWT' }, claims(), hmacSigner(rsa.publicPem));
    await assertInvalidToken(rsVerifier().authenticate(bearer(forged)));
  });

  it('algorithm confusion fails even when HS256 and RS256 are both allowed', async () => {
    const v = rsVerifier({ algorithms: ['RS256', 'HS256'], secrets: [secret] });
    const forged = craftToken({ alg: 'HS256', typ: 'JWT' }, claims(), hmacSigner(rsa.publicPem));
    await assertInvalidToken(v.authenticate(bearer(forged)));
    const forgedWithKid = craftToken(
      { alg: 'HS256', kid: 'rsa-1' },
      claims(),
      hmacSigner(rsa.publicPem),
    );
    const withKid = rsVerifier({
      algorithms: ['RS256', 'HS256'],
      secrets: [secret],
      publicKeys: [{ kid: 'rsa-1', pem: rsa.publicPem }],
    });
    await assertInvalidToken(withKid.authenticate(bearer(forgedWithKid)));
  });

  it('an ES256 token is not checked with a key of the wrong curve or family', async () => {
    const p384 = ecKeyPair('P-384');
    const token = signJwt(claims(), ec.privateKey, 'ES256');
    const wrongCurve = verifier({ algorithms: ['ES256'], publicKeys: [{ pem: p384.publicPem }] });
    await assertInvalidToken(wrongCurve.authenticate(bearer(token)));
    const rsOnly = verifier({
      algorithms: ['ES256', 'RS256'],
      publicKeys: [{ pem: rsa.publicPem }],
    });
    await assertInvalidToken(rsOnly.authenticate(bearer(token)));
  });

  it('an RSA key under 2048 bits is never used to verify', async () => {
    const weak = rsaKeyPair(1024);
    // jsonwebtoken refuses to sign with a weak key, so the token is made by hand.
    const token = craftToken({ alg: 'RS256' }, claims(), rs256Signer(weak.privateKey));
    const v = rsVerifier({ publicKeys: [{ pem: weak.publicPem }] });
    await assertInvalidToken(v.authenticate(bearer(token)));
  });

  it('a public key embedded in the jwk header is not trusted', async () => {
    const attacker = rsaKeyPair();
    const jwk = attacker.publicKey.export({ format: 'jwk' });
    const token = signJwt(claims(), attacker.privateKey, 'RS256', { jwk });
    await assertInvalidToken(rsVerifier().authenticate(bearer(token)));
  });
});

describe('JWT verifier: claims', () => {
  const rejects = (payload: Record<string, unknown>, overrides: Partial<JwtVerifierOptions> = {}) =>
    assertInvalidToken(verifier(overrides).authenticate(bearer(hs(payload))));

  it('a token without exp is rejected', () => rejects(claims({ exp: undefined })));
  it('a token expired beyond the clock tolerance is rejected', () =>
    rejects(claims({ exp: NOW_S - 31 })));
  it('a token whose nbf is ahead beyond the clock tolerance is rejected', () =>
    rejects(claims({ nbf: NOW_S + 31 })));
  it('a string exp is rejected', () =>
    assertInvalidToken(
      verifier().authenticate(
        bearer(
          craftToken({ alg: 'HS256' }, claims({ exp: String(NOW_S + 300) }), hmacSigner(secret)),
        ),
      ),
    ));
  it('a wrong iss is rejected', () => rejects(claims({ iss: 'https://evil.test' })));
  it('a missing iss is rejected', () => rejects(claims({ iss: undefined })));
  it('an iss that only differs in case is rejected', () =>
    rejects(claims({ iss: ISSUER.toUpperCase() })));
  it('a wrong aud is rejected', () => rejects(claims({ aud: 'dis-gateway-staging' })));
  it('a missing aud is rejected', () => rejects(claims({ aud: undefined })));
  it('an aud array without the configured audience is rejected', () =>
    rejects(claims({ aud: ['a', 'b'] })));
  it('an empty aud array is rejected', () => rejects(claims({ aud: [] })));

  it('with a maximum token age, a token issued too long ago is rejected', () =>
    rejects(claims({ iat: NOW_S - 3600 }), { maxTokenAgeS: 600 }));
  it('with a maximum token age, a token without iat is rejected', () =>
    rejects(claims({ iat: undefined }), { maxTokenAgeS: 600 }));
  it('with a maximum token age, an iat in the future is rejected', () =>
    rejects(claims({ iat: NOW_S + 3600 }), { maxTokenAgeS: 600 }));
  it('with a maximum token age, a recent token is accepted', async () => {
    const v = verifier({ maxTokenAgeS: 600 });
    assert.equal((await v.authenticate(bearer(hs(claims({ iat: NOW_S - 500 }))))).id, 'svc-orders');
  });

  it('a token without the principal claim is rejected', () => rejects(claims({ sub: undefined })));
  it('an empty principal claim is rejected', () => rejects(claims({ sub: '' })));
  it('a non-string principal claim is rejected', () => rejects(claims({ sub: 42 })));

  it('the configured principal claim is used instead of sub', async () => {
    const v = verifier({ principalClaim: 'client_id' });
    const principal = await v.authenticate(bearer(hs(claims({ client_id: 'svc-billing' }))));
    assert.equal(principal.id, 'svc-billing');
    await assertInvalidToken(v.authenticate(bearer(hs(claims()))));
  });
});

describe('JWT verifier: malformed tokens', () => {
  const signed = hs(claims());
  const [h = '', p = '', s = ''] = signed.split('.');
  const signedCraft = (header: unknown, payload: unknown) =>
    craftToken(header, payload, hmacSigner(secret));
  const b64 = (text: string) => Buffer.from(text).toString('base64url');

  const cases: [string, string][] = [
    ['two segments', `${h}.${p}`],
    ['four segments', `${signed}.${s}`],
    ['an empty signature', `${h}.${p}.`],
    ['standard base64 characters', `${h}.${p}.${s}+/==`],
    ['a character outside base64url', `${h}.${p}!.${s}`],
    ['a tampered payload', `${h}.${b64urlJson(claims({ sub: 'admin' }))}.${s}`],
    ['a header that is not JSON', `${b64('{"alg":"HS256"')}.${p}.${s}`],
    ['a payload that is not JSON', signedCraftRaw(b64('{"sub":'))],
    ['a header that is a JSON array', signedCraft(['HS256'], claims())],
    ['a header without alg', signedCraft({ typ: 'JWT' }, claims())],
    ['a numeric alg', signedCraft({ alg: 256 }, claims())],
    ['an array payload (correctly signed)', signedCraft({ alg: 'HS256' }, [claims()])],
    ['a string payload (correctly signed)', signedCraft({ alg: 'HS256' }, 'svc-orders')],
    ['a null payload (correctly signed)', signedCraft({ alg: 'HS256' }, null)],
    [
      'a crit header (correctly signed)',
      signedCraft({ alg: 'HS256', crit: ['exp'], exp: 1 }, claims()),
    ],
    ['an empty crit header (correctly signed)', signedCraft({ alg: 'HS256', crit: [] }, claims())],
    ['a token signed with another secret', signJwt(claims(), randomSecret(), 'HS256')],
  ];

  function signedCraftRaw(payloadSegment: string): string {
    const input = `${b64urlJson({ alg: 'HS256' })}.${payloadSegment}`;
    return `${input}.${hmacSigner(secret)(input)}`;
  }

  for (const [name, token] of cases) {
    it(`a token with ${name} is rejected`, () =>
      assertInvalidToken(verifier().authenticate(bearer(token))));
  }

  it('control: the well-formed token these are made from is accepted, crit-less', async () => {
    assert.equal((await verifier().authenticate(bearer(signed))).id, 'svc-orders');
    const crafted = signedCraft({ alg: 'HS256' }, claims());
    assert.equal((await verifier().authenticate(bearer(crafted))).id, 'svc-orders');
  });

  it('a correctly signed token over 8 KiB is rejected, and accepted under a larger limit', async () => {
    const big = hs(claims({ padding: 'x'.repeat(8192) }));
    assert.ok(big.length > 8192);
    await assertInvalidToken(verifier().authenticate(bearer(big)));
    const roomy = verifier({ maxTokenBytes: 16_384 });
    assert.equal((await roomy.authenticate(bearer(big))).id, 'svc-orders');
  });
});

describe('JWT verifier: kid is an exact lookup', () => {
  const v = () =>
    rsVerifier({
      algorithms: ['RS256', 'HS256'],
      secrets: [secret],
      publicKeys: [{ kid: 'rsa-1', pem: rsa.publicPem }],
    });

  for (const kid of ['../x', '../rsa-1', 'rsa-1/../rsa-1', 'RSA-1', 'rsa-1 ', 'rsa', '', '*']) {
    it(`a token naming kid ${JSON.stringify(kid)} is not verified with another key`, async () => {
      const token = signJwt(claims(), rsa.privateKey, 'RS256', { kid });
      await assertInvalidToken(v().authenticate(bearer(token)));
    });
  }

  it('a non-string kid is rejected', async () => {
    const token = signJwt(claims(), rsa.privateKey, 'RS256', { kid: 1 });
    await assertInvalidToken(v().authenticate(bearer(token)));
  });

  it('an HS token naming a kid finds no secret, since secrets carry no kid', async () => {
    await assertInvalidToken(v().authenticate(bearer(hs(claims(), { kid: 'rsa-1' }))));
    assert.equal((await v().authenticate(bearer(hs(claims())))).id, 'svc-orders');
  });

  it('control: the exact kid is accepted', async () => {
    const token = signJwt(claims(), rsa.privateKey, 'RS256', { kid: 'rsa-1' });
    assert.equal((await v().authenticate(bearer(token))).id, 'svc-orders');
  });
});

describe('JWT verifier: configuration checked at startup', () => {
  it('an unknown algorithm name is refused', () => {
    assert.throws(() => verifier({ algorithms: ['HS256', 'hs384'] }), /unsupported/);
  });
  it('an empty allow-list is refused', () => {
    assert.throws(() => verifier({ algorithms: [] }), /empty/);
  });
  it('a clock tolerance above 60 s is refused', () => {
    assert.throws(() => verifier({ clockToleranceS: 61 }), /tolerance/);
  });
  it('an HMAC secret under 32 bytes is refused', () => {
    assert.throws(() => verifier({ secrets: ['short-secret'] }), /32 bytes/);
  });
  it('a private key where a public key belongs is refused', () => {
    const pem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assert.throws(() => rsVerifier({ publicKeys: [{ pem }] }), /private/);
  });
  it('a verifier without any key is refused', () => {
    assert.throws(() => verifier({ secrets: [] }), /no JWT verification keys/);
  });
  it('empty issuer or audience lists are refused', () => {
    assert.throws(() => verifier({ issuer: [] }), /issuer/);
    assert.throws(() => verifier({ audience: [] }), /audience/);
  });
});

describe('JWT verifier: HS secrets named by a kid (hs_keys)', () => {
  it('an HS256 token with a kid is verified with the secret configured under that kid', async () => {
    const other = randomSecret();
    const v = verifier({
      secrets: [],
      hsKeys: [
        { kid: 'hs-1', secret },
        { kid: 'hs-2', secret: other },
      ],
    });
    assert.equal((await v.authenticate(bearer(hs(claims(), { kid: 'hs-1' })))).id, 'svc-orders');
    const second = signJwt(claims(), other, 'HS256', { kid: 'hs-2' });
    assert.equal((await v.authenticate(bearer(second))).id, 'svc-orders');
  });

  it('a kid-stamped HS token is not checked with another kid’s secret nor the unnamed secrets', async () => {
    const named = randomSecret();
    const v = verifier({ secrets: [secret], hsKeys: [{ kid: 'hs-1', secret: named }] });
    // Signed with the unnamed secret but naming a kid that is not configured: no fallback.
    await assertInvalidToken(v.authenticate(bearer(hs(claims(), { kid: 'unknown' }))));
    // Signed with the unnamed secret but naming hs-1: checked with hs-1's secret only.
    await assertInvalidToken(v.authenticate(bearer(hs(claims(), { kid: 'hs-1' }))));
  });

  it('a token without a kid may match a named secret as well as an unnamed one', async () => {
    const named = randomSecret();
    const v = verifier({ secrets: [secret], hsKeys: [{ kid: 'hs-1', secret: named }] });
    assert.equal(
      (await v.authenticate(bearer(signJwt(claims(), named, 'HS256')))).id,
      'svc-orders',
    );
    assert.equal((await v.authenticate(bearer(hs(claims())))).id, 'svc-orders');
  });
});

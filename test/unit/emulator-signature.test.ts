import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { parseSdkDate } from '../../src/dis/canonical.ts';
import { signRequest } from '../../src/dis/signer.ts';
import { verifySignedRequest } from '../../src/emulator/auth.ts';
import type { SignatureCheckOptions } from '../../src/emulator/auth.ts';
import { parseAuthorization } from '../../src/dis/signature-verifier.ts';
import type { ArrivedRequest } from '../../src/dis/signature-verifier.ts';

const Example = z.object({
  name: z.string(),
  method: z.string(),
  url: z.string(),
  signed_headers_values: z.record(z.string(), z.string()),
  body: z.string(),
  ak: z.string(),
  sk: z.string(),
  region: z.string(),
  expected_authorization: z.string(),
});

const examples = z
  .array(Example)
  .parse(
    JSON.parse(
      readFileSync(
        new URL('../fixtures/dis-legacy-signing-examples.json', import.meta.url),
        'utf8',
      ),
    ),
  );

const AT = Date.UTC(2024, 2, 15, 8, 30, 0);

function arrived(example: z.output<typeof Example>, overrides: Partial<ArrivedRequest> = {}) {
  const url = new URL(example.url);
  return {
    method: example.method,
    path: url.pathname,
    search: url.search,
    headers: { ...example.signed_headers_values, authorization: example.expected_authorization },
    body: example.body,
    ...overrides,
  };
}

function options(example: z.output<typeof Example>, now = AT): SignatureCheckOptions {
  return { credentials: [{ ak: example.ak, sk: example.sk }], region: example.region, now };
}

describe('legacy DIS-SDK signatures (fixtures from the official python-dis signer)', () => {
  it('has both the Credential= and the V11 example', () => {
    assert.deepEqual(
      examples.map((e) => e.expected_authorization.split(' ')[0]),
      ['SDK-HMAC-SHA256', 'V11-HMAC-SHA256'],
    );
  });

  for (const example of examples) {
    it(`when the ${example.name} example arrives unchanged, it verifies`, () => {
      assert.deepEqual(verifySignedRequest(arrived(example), options(example)), {
        ok: true,
        principal: example.ak,
        via: 'aksk',
      });
    });

    it(`when the ${example.name} body is tampered with, it fails`, () => {
      const body = example.body.replace('user-42', 'user-43');
      const verdict = verifySignedRequest(arrived(example, { body }), options(example));
      assert.equal(verdict.ok, false);
    });

    it(`when the ${example.name} signature is checked with another SK, it fails`, () => {
      const verdict = verifySignedRequest(arrived(example), {
        ...options(example),
        credentials: [{ ak: example.ak, sk: `${example.sk}x` }],
      });
      assert.equal(verdict.ok, false);
    });

    it(`when the ${example.name} example is 16 minutes old, it is rejected as expired`, () => {
      const verdict = verifySignedRequest(arrived(example), options(example, AT + 16 * 60_000));
      assert.equal(verdict.ok, false);
      assert.match(verdict.message, /signature expired/);
    });
  }

  it('when python-dis signs host without the port but the request carries it, it still verifies', () => {
    const example = examples[1];
    assert.ok(example);
    const req = arrived(example);
    const verdict = verifySignedRequest(
      { ...req, headers: { ...req.headers, host: '127.0.0.1:8080' } },
      options(example),
    );
    assert.equal(verdict.ok, true);
  });

  it('when the legacy scope names another region, it fails', () => {
    const example = examples[0];
    assert.ok(example);
    const verdict = verifySignedRequest(arrived(example), {
      ...options(example),
      region: 'cn-east-3',
    });
    assert.equal(verdict.ok, false);
  });
});

describe('v3 signatures', () => {
  const url = new URL('http://127.0.0.1:9/v2/p/records');
  const credentials = { ak: 'AK1', sk: 'SK1' };
  const signed = signRequest({
    method: 'POST',
    url,
    headers: { 'Content-Type': 'application/json' },
    body: '{"a":1}',
    credentials,
    date: new Date(AT),
  });
  const base: ArrivedRequest = {
    method: 'POST',
    path: '/v2/p/records/',
    search: '',
    headers: Object.fromEntries(
      Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v]),
    ),
    body: '{"a":1}',
  };
  const check = { credentials: [credentials], region: 'cn-north-4', now: AT };

  it('when the path arrives with a trailing slash the signer did not see, it still verifies', () => {
    assert.equal(verifySignedRequest(base, check).ok, true);
  });

  it('when the AK is unknown, it fails naming the AK', () => {
    const verdict = verifySignedRequest(base, {
      ...check,
      credentials: [{ ak: 'AK2', sk: 'SK1' }],
    });
    assert.equal(verdict.ok, false);
    assert.match(verdict.message, /AK1/);
  });

  it('when the credential is temporary, a missing X-Security-Token fails', () => {
    const verdict = verifySignedRequest(base, {
      ...check,
      credentials: [{ ...credentials, securityToken: 'tok' }],
    });
    assert.equal(verdict.ok, false);
  });

  it('parses both Authorization forms', () => {
    assert.equal(parseAuthorization(signed.authorization)?.ak, 'AK1');
    assert.equal(parseAuthorization(signed.authorization)?.scope, undefined);
    assert.equal(
      parseAuthorization(
        'SDK-HMAC-SHA256 Credential=A/20240315/r/dis/sdk_request, SignedHeaders=host, Signature=ab',
      )?.scope?.region,
      'r',
    );
    assert.equal(parseAuthorization('Bearer x'), undefined);
  });

  it('when a date is malformed, it fails', () => {
    assert.equal(parseSdkDate('2024-03-15'), undefined);
    const verdict = verifySignedRequest(
      { ...base, headers: { ...base.headers, 'x-sdk-date': '2024-03-15' } },
      check,
    );
    assert.equal(verdict.ok, false);
  });
});

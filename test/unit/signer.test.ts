import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { canonicalQuery, parseQuery, parseSdkDate } from '../../src/dis/canonical.ts';
import { signRequest } from '../../src/dis/signer.ts';

const Vector = z.object({
  name: z.string(),
  method: z.string(),
  url: z.string(),
  headers: z.record(z.string(), z.string()),
  body: z.string(),
  ak: z.string(),
  sk: z.string(),
  sdk_date: z.string(),
  query_params: z.array(z.tuple([z.string(), z.string()])),
  signer_adds: z.record(z.string(), z.string()),
  expected: z.object({
    authorization: z.string(),
    signed_headers: z.string(),
    signature: z.string(),
    canonical_request: z.string(),
    string_to_sign: z.string(),
  }),
});

const vectors = z
  .array(Vector)
  .parse(
    JSON.parse(
      readFileSync(new URL('../fixtures/dis-signing-vectors.json', import.meta.url), 'utf8'),
    ),
  );

describe('signRequest reproduces the official SDK signer', () => {
  it('has vectors to run', () => {
    assert.ok(vectors.length >= 10, `only ${vectors.length} vectors`);
  });

  for (const v of vectors) {
    it(`vector ${v.name}`, () => {
      const date = parseSdkDate(v.sdk_date);
      assert.ok(date, `bad sdk_date ${v.sdk_date}`);
      const url = new URL(v.url);
      assert.deepEqual(parseQuery(url.search), v.query_params);
      const signed = signRequest({
        method: v.method,
        url,
        headers: v.headers,
        body: v.body,
        credentials: { ak: v.ak, sk: v.sk },
        date,
      });
      assert.equal(signed.canonicalRequest, v.expected.canonical_request);
      assert.equal(signed.stringToSign, v.expected.string_to_sign);
      assert.equal(signed.signedHeaders, v.expected.signed_headers);
      assert.equal(signed.signature, v.expected.signature);
      assert.equal(signed.authorization, v.expected.authorization);
      assert.equal(signed.headers.Authorization, v.expected.authorization);
      for (const [name, value] of Object.entries(v.signer_adds)) {
        assert.equal(signed.headers[name], value, `signer adds ${name}`);
      }
    });
  }
});

describe('signRequest details beyond the vectors', () => {
  const base = {
    method: 'POST',
    url: new URL('https://dis.cn-north-4.myhuaweicloud.com/v2/p/records'),
    headers: { 'Content-Type': 'application/json' },
    body: '{}',
    credentials: { ak: 'AK', sk: 'SK' },
    date: new Date(Date.UTC(2024, 2, 15, 8, 30, 0)),
  };

  it('signs X-Security-Token for temporary keys', () => {
    const signed = signRequest({
      ...base,
      credentials: { ak: 'AK', sk: 'SK', securityToken: 'tok' },
    });
    assert.equal(signed.headers['X-Security-Token'], 'tok');
    assert.equal(signed.signedHeaders, 'content-type;host;x-sdk-date;x-security-token');
    assert.match(signed.canonicalRequest, /\nx-security-token:tok\n/);
  });

  it('uses X-Sdk-Content-Sha256 instead of the body hash and signs the header', () => {
    const signed = signRequest({
      ...base,
      headers: { ...base.headers, 'X-Sdk-Content-Sha256': 'UNSIGNED-PAYLOAD' },
    });
    assert.ok(signed.canonicalRequest.endsWith('\nUNSIGNED-PAYLOAD'));
    assert.match(signed.signedHeaders, /x-sdk-content-sha256/);
    const other = signRequest({
      ...base,
      body: '{"changed":true}',
      headers: { ...base.headers, 'X-Sdk-Content-Sha256': 'UNSIGNED-PAYLOAD' },
    });
    assert.equal(other.signature, signed.signature);
  });

  it('trims header values and keeps inner whitespace', () => {
    const signed = signRequest({ ...base, headers: { 'X-Custom': '  a  b  ' } });
    assert.match(signed.canonicalRequest, /\nx-custom:a {2}b\n/);
  });

  it('signs host with its port when the URL has one', () => {
    const signed = signRequest({ ...base, url: new URL('http://127.0.0.1:18080/v2/p/records') });
    assert.equal(signed.headers.host, '127.0.0.1:18080');
    assert.match(signed.canonicalRequest, /\nhost:127\.0\.0\.1:18080\n/);
  });

  it('puts repeated keys and empty values into the canonical query', () => {
    assert.equal(
      canonicalQuery([
        ['b', '2'],
        ['a', ''],
        ['b', '1'],
      ]),
      'a=&b=1&b=2',
    );
    assert.deepEqual(parseQuery('?a&b=&c=x+y'), [
      ['a', ''],
      ['b', ''],
      ['c', 'x+y'],
    ]);
  });

  it('changes the signature when the time changes (time is an argument)', () => {
    const a = signRequest(base);
    const b = signRequest({ ...base, date: new Date(base.date.getTime() + 1000) });
    assert.notEqual(a.signature, b.signature);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { canonicalRequest, formatSdkDate, sha256Hex } from '../../src/dis/canonical.ts';
import { legacyAuthorization } from '../../src/dis/legacy-signature.ts';
import { DEV_IAM_USERS } from '../../src/emulator/emulator.ts';
import { startEmulator } from '../helpers/emulator-harness.ts';
import type { Harness } from '../helpers/emulator-harness.ts';
import { plainRequest, signedRequest } from '../helpers/signed-request.ts';

const AK = 'AUTHTESTAK0000000001';
const SK = 'auth-test-secret-key';
const TEMP = { ak: 'TEMPAK00000000000001', sk: 'temp-sk', securityToken: 'temp-token' };

function assertApigw401(res: { status: number; json: unknown }, message: RegExp): void {
  assert.equal(res.status, 401);
  assert.deepEqual(Object.keys(res.json ?? {}).sort(), ['error_code', 'error_msg', 'request_id']);
  assert.match(JSON.stringify(res.json), /"error_code":"APIGW.0301"/);
  assert.match(JSON.stringify(res.json), message);
}

describe('emulator authentication', () => {
  let h: Harness;
  const streamsPath = (): string => `${h.emulator.url}/v2/${h.emulator.projectId}/streams`;

  before(async () => {
    h = await startEmulator({ credentials: [{ ak: AK, sk: SK }, TEMP], tokenTtlMs: 60_000 });
  });
  after(() => h.close());

  it('when a v3-signed request arrives, it is accepted', async () => {
    const res = await h.dis('/streams');
    assert.equal(res.status, 200);
  });

  it('when the request is signed with a wrong SK, it gets 401 in the API gateway shape', async () => {
    const res = await signedRequest(streamsPath(), {
      credentials: { ak: AK, sk: 'wrong' },
      date: new Date(h.clock.now()),
    });
    assertApigw401(res, /verify aksk signature fail/);
    assert.ok(h.emulator.state.stats.authFailures >= 1);
  });

  it('when X-Sdk-Date is 16 minutes old, it gets 401 signature expired', async () => {
    const res = await signedRequest(streamsPath(), {
      credentials: { ak: AK, sk: SK },
      date: new Date(h.clock.now() - 16 * 60_000),
    });
    assertApigw401(res, /signature expired/);
  });

  it('when the AK is unknown, it gets 401', async () => {
    const res = await signedRequest(streamsPath(), {
      credentials: { ak: 'NOSUCHAK', sk: SK },
      date: new Date(h.clock.now()),
    });
    assertApigw401(res, /NOSUCHAK/);
  });

  it('when there is no Authorization or token at all, it gets 401', async () => {
    assertApigw401(await plainRequest(streamsPath()), /Authorization header not found/);
  });

  it('when temporary keys are used, the security token must come along', async () => {
    const date = new Date(h.clock.now());
    const ok = await signedRequest(streamsPath(), { credentials: TEMP, date });
    assert.equal(ok.status, 200);
    const withoutToken = { ak: TEMP.ak, sk: TEMP.sk };
    assertApigw401(
      await signedRequest(streamsPath(), { credentials: withoutToken, date }),
      /security token/,
    );
  });

  it('when a python-dis style V11 signature signs host without the port, it is accepted', async () => {
    const url = new URL(`${streamsPath()}/`);
    const sdkDate = formatSdkDate(new Date(h.clock.now()));
    const canonical = canonicalRequest({
      method: 'GET',
      uri: url.pathname,
      query: '',
      headers: {
        signedHeaders: 'host;x-sdk-date',
        block: `host:${url.hostname}\nx-sdk-date:${sdkDate}\n`,
      },
      payloadHash: sha256Hex(''),
    });
    const authorization = legacyAuthorization({
      algorithm: 'V11-HMAC-SHA256',
      ak: AK,
      sk: SK,
      region: h.emulator.region,
      sdkDate,
      canonicalRequest: canonical,
      signedHeaders: 'host;x-sdk-date',
    });
    const res = await plainRequest(url, { headers: { 'x-sdk-date': sdkDate, authorization } });
    assert.equal(res.status, 200);
    const tampered = authorization.replace(/Signature=\w+/, `Signature=${'0'.repeat(64)}`);
    const bad = await plainRequest(url, {
      headers: { 'x-sdk-date': sdkDate, authorization: tampered },
    });
    assert.equal(bad.status, 401);
  });

  it('when the path names another project, it gets 400 DIS.4117', async () => {
    const res = await signedRequest(
      `${h.emulator.url}/v2/ffffffffffffffffffffffffffffffff/streams`,
      {
        credentials: { ak: AK, sk: SK },
        date: new Date(h.clock.now()),
      },
    );
    assert.equal(res.status, 400);
    assert.deepEqual(res.json, {
      errorCode: 'DIS.4117',
      message: 'Invalid Project Id. [ffffffffffffffffffffffffffffffff]',
    });
  });

  it('when the path is not a DIS API, it gets 404 APIGW.0101', async () => {
    const res = await h.dis('/nothing-here');
    assert.equal(res.status, 404);
    assert.match(res.text, /APIGW.0101/);
  });
});

describe('emulator IAM tokens', () => {
  let h: Harness;
  const user = DEV_IAM_USERS[0];

  before(async () => {
    h = await startEmulator({ tokenTtlMs: 60_000 });
  });
  after(() => h.close());

  function tokenBody(password: string, project: { id: string } | { name: string }): unknown {
    assert.ok(user);
    return {
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: user.name, password, domain: { name: user.domain } } },
        },
        scope: { project },
      },
    };
  }

  it('when a token from /v3/auth/tokens is sent as X-Auth-Token, DIS calls work until it expires', async () => {
    assert.ok(user);
    const issued = await h.raw('/v3/auth/tokens', {
      body: tokenBody(user.password, { id: h.emulator.projectId }),
    });
    assert.equal(issued.status, 201);
    const token = issued.headers['x-subject-token'];
    assert.equal(typeof token, 'string');
    assert.match(issued.text, /"methods":\["password"\]/);
    assert.match(issued.text, /"expires_at":"2024-03-15T08:31:00.000000Z"/);

    const path = `/v2/${h.emulator.projectId}/streams`;
    const headers = { 'x-auth-token': String(token) };
    assert.equal((await h.raw(path, { headers })).status, 200);

    h.clock.advance(60_001);
    const expired = await h.raw(path, { headers });
    assert.equal(expired.status, 401);
    assert.match(expired.text, /APIGW.0301/);
  });

  it('when the project is scoped by name (the region), a token is issued', async () => {
    assert.ok(user);
    const res = await h.raw('/v3/auth/tokens', {
      body: tokenBody(user.password, { name: h.emulator.region }),
    });
    assert.equal(res.status, 201);
  });

  it('when the password is wrong, IAM answers 401 and an unknown token is refused', async () => {
    const res = await h.raw('/v3/auth/tokens', {
      body: tokenBody('nope', { id: h.emulator.projectId }),
    });
    assert.equal(res.status, 401);
    assert.match(res.text, /"error_code":"IAM.0004"/);
    const unknown = await h.raw(`/v2/${h.emulator.projectId}/streams`, {
      headers: { 'x-auth-token': 'MIIbogus' },
    });
    assert.equal(unknown.status, 401);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import { startGateway, testClaims as claims, type TestGateway } from '../helpers/gateway.ts';

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('records endpoint: who may write', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({ streams: [{ name: 'clicks', partitions: 1 }] });
  });
  after(async () => {
    await gw.close();
  });

  const body = '{"records":[{"data":1}]}';
  const postWith = (authorization: string | string[]) =>
    gw.postRaw('/v1/streams/clicks/records', Buffer.from(body), {
      Authorization: authorization,
      'Content-Type': 'application/json',
    });

  it('accepts a valid token with the scheme in any casing (positive control)', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const res = await postWith(`${scheme} ${gw.token({ scopes: ['dis:write:clicks'] })}`);
      assert.equal(res.status, 200, `${scheme}: ${res.text}`);
    }
  });

  const withoutExp = () => {
    const payload: Partial<ReturnType<typeof claims>> = claims();
    delete payload.exp;
    return payload;
  };

  it('rejects every bad token with the same 401 and no hint which check failed', async () => {
    const sign = (payload: object, options: jwt.SignOptions = {}) =>
      jwt.sign(payload, gw.secret, { algorithm: 'HS256', ...options });
    const now = Math.floor(Date.now() / 1000);
    const unsigned = (alg: string) => `${b64url({ alg, typ: 'JWT' })}.${b64url(claims())}.`;
    const bad: Record<string, string> = {
      'alg none': unsigned('none'),
      'alg None': unsigned('None'),
      'alg NONE': unsigned('NONE'),
      'HS384 outside the allow-list': jwt.sign(claims(), gw.secret, { algorithm: 'HS384' }),
      'wrong secret': jwt.sign(claims(), 'x'.repeat(40), { algorithm: 'HS256' }),
      'no exp': sign(withoutExp()),
      expired: sign({ ...claims(), exp: now - 120 }),
      'nbf ahead': sign({ ...claims(), nbf: now + 300 }),
      'wrong iss': sign({ ...claims(), iss: 'https://evil.example' }),
      'wrong aud': sign({ ...claims(), aud: 'someone-else' }),
      malformed: 'abc.def',
      'crit header': sign(claims(), { header: { alg: 'HS256', crit: ['exp'] } }),
      'odd kid': sign(claims(), { keyid: '../../etc/passwd' }),
      oversize: sign({ ...claims(), pad: 'x'.repeat(9000) }),
    };
    const details = new Set<string>();
    for (const [name, token] of Object.entries(bad)) {
      const res = await postWith(`Bearer ${token}`);
      assert.equal(res.status, 401, `${name}: ${res.text}`);
      assert.match(String(res.headers['www-authenticate']), /error="invalid_token"/, name);
      details.add((JSON.parse(res.text) as { detail?: string }).detail ?? '');
    }
    assert.equal(details.size, 1, `one detail for every failure: ${[...details].join(' | ')}`);
    assert.equal(gw.stored('clicks').length, 3, 'only the positive controls wrote');
  });

  it('answers 400 to two Authorization headers and 401 to other schemes or extra words', async () => {
    const token = gw.token({ scopes: ['dis:write:clicks'] });
    const two = await postWith([`Bearer ${token}`, `Bearer ${token}`]);
    assert.equal(two.status, 400);
    assert.match(String(two.headers['www-authenticate']), /invalid_request/);
    assert.equal((await postWith(`Basic ${Buffer.from('a:b').toString('base64')}`)).status, 401);
    assert.equal((await postWith(`Bearer ${token} extra`)).status, 401);
  });

  it('matches scopes exactly: no prefixes, no case folding', async () => {
    for (const scope of [
      'dis:write:click',
      'dis:write:clicks-extra',
      'dis:write:',
      'DIS:WRITE:clicks',
      'dis:write:**',
      'dis:read:clicks',
    ]) {
      const res = await postWith(`Bearer ${gw.token({ scopes: [scope] })}`);
      assert.equal(res.status, 403, scope);
    }
    assert.equal(
      (await postWith(`Bearer ${gw.token({ scopes: ['other', 'dis:write:*'] })}`)).status,
      200,
    );
  });

  it('counts refused tokens by reason while every caller gets the same 401', async () => {
    const count = async (reason: string): Promise<number> =>
      (await gw.metrics.authFailures.get()).values.find((v) => v.labels.reason === reason)?.value ??
      0;
    const expiredBefore = await count('expired');
    const audienceBefore = await count('wrong_audience');
    const expired = jwt.sign({ ...claims(), exp: Math.floor(Date.now() / 1000) - 60 }, gw.secret);
    const elsewhere = jwt.sign({ ...claims(), aud: 'someone-else' }, gw.secret);
    const answers = [await postWith(`Bearer ${expired}`), await postWith(`Bearer ${elsewhere}`)];
    assert.deepEqual(
      answers.map((a) => a.status),
      [401, 401],
    );
    assert.equal(answers[0]?.text, answers[1]?.text);
    assert.equal(await count('expired'), expiredBefore + 1);
    assert.equal(await count('wrong_audience'), audienceBefore + 1);
  });
});

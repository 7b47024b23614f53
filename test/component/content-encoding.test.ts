import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { signGithub } from '../../src/webhooks/sign.ts';
import { startGatewayOnRedis, type TestGatewayOnRedis } from '../helpers/gateway.ts';

const GH_SECRET = 'gh-secret-for-encoding-tests';
const config = {
  webhooks: {
    sources: {
      gh: { profile: 'github', secrets_env: ['GH_SECRET'], stream: 'hooks', mode: 'sync' },
    },
  },
};

describe('Content-Encoding on request bodies', () => {
  let gw: TestGatewayOnRedis;
  before(async () => {
    gw = await startGatewayOnRedis({
      streams: [
        { name: 'clicks', partitions: 1 },
        { name: 'hooks', partitions: 1 },
      ],
      env: { GATEWAY_CONFIG: '/virtual/gw.json', GH_SECRET },
      readFile: () => JSON.stringify(config),
    });
  });
  after(async () => {
    await gw.close();
  });

  const records = (body: Buffer, encoding: string) =>
    gw.postRaw('/v1/streams/clicks/records', body, {
      Authorization: `Bearer ${gw.token({ scopes: ['dis:write:clicks'] })}`,
      'Content-Type': 'application/json',
      'Content-Encoding': encoding,
    });
  const code = (text: string) => (JSON.parse(text) as { code: string }).code;

  it('records: a body that does not decompress is 400 ERR_HTTP_BAD_ENCODING, an unknown coding 415; valid gzip is written', async () => {
    const before = gw.stored('clicks').length;
    for (const encoding of ['gzip', 'deflate', 'br']) {
      const res = await records(Buffer.from('{"records":[{"data":1}]}'), encoding);
      assert.equal(res.status, 400, `${encoding}: ${res.text}`);
      assert.equal(code(res.text), 'ERR_HTTP_BAD_ENCODING');
      assert.match(String(res.headers['content-type']), /application\/problem\+json/);
    }
    const truncated = gzipSync('{"records":[{"data":1}]}').subarray(0, 12);
    assert.equal((await records(truncated, 'gzip')).status, 400);
    const compress = await records(Buffer.from('x'), 'compress');
    assert.equal(compress.status, 415, compress.text);
    assert.equal(code(compress.text), 'ERR_HTTP_UNSUPPORTED_MEDIA_TYPE');
    assert.equal(gw.stored('clicks').length, before, 'nothing from a rejected request reached DIS');

    const ok = await records(gzipSync('{"records":[{"data":{"n":7}}]}'), 'gzip');
    assert.equal(ok.status, 200, ok.text);
    assert.equal(gw.stored('clicks').length, before + 1);
  });

  it('webhooks: any Content-Encoding is 415 before verification, never decompressed, nothing written', async () => {
    const before = gw.stored('hooks').length;
    const json = Buffer.from('{"x":1}');
    const deliveries: [string, Buffer][] = [
      ['gzip', gzipSync(json)],
      ['gzip', json], // malformed gzip: still 415, not 400/500
      ['br', json],
    ];
    for (const [encoding, body] of deliveries) {
      // Signed over the decompressed bytes: would verify if the gateway decompressed.
      const res = await gw.postRaw('/v1/webhooks/gh', body, {
        'Content-Type': 'application/json',
        'Content-Encoding': encoding,
        'X-GitHub-Delivery': randomUUID(),
        'X-Hub-Signature-256': signGithub({ secret: GH_SECRET, body: json }),
      });
      assert.equal(res.status, 415, `${encoding}: ${res.text}`);
      assert.equal(code(res.text), 'ERR_HTTP_UNSUPPORTED_MEDIA_TYPE');
      assert.equal(res.headers['accept-encoding'], 'identity');
    }
    assert.equal(gw.stored('hooks').length, before, 'nothing written');
    const identity = await gw.postRaw('/v1/webhooks/gh', json, {
      'Content-Encoding': 'identity',
      'X-GitHub-Delivery': randomUUID(),
      'X-Hub-Signature-256': signGithub({ secret: GH_SECRET, body: json }),
    });
    assert.equal(identity.status, 200, identity.text);
  });
});

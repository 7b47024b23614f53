import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { runMain, spawnGateway, type ProcessEnv } from '../helpers/process-gateway.ts';

// `node src/main.ts token` as an operator runs it, against a gateway started with the same
// environment: the printed token is the whole of stdout and the gateway accepts it.

async function postRecord(url: string, stream: string, token: string) {
  const response = await request(`${url}/v1/streams/${stream}/records`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ records: [{ id: 'evt-1', data: { user_id: 'u-1' } }] }),
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  return { status: response.statusCode, text: await response.body.text() };
}

async function mint(env: ProcessEnv, args: readonly string[]): Promise<string> {
  // PORT 0: if `token` were not dispatched, the gateway this would start must not take a real port.
  const result = await runMain({ env, args: ['token', ...args], timeoutMs: 10_000 });
  assert.equal(result.code, 0, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  assert.match(result.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/, 'stdout is the token and a newline');
  return result.stdout.trim();
}

describe('dis-gateway token, run as a process', () => {
  it('mints tokens a gateway with the same environment accepts, granting exactly the scopes asked for', async (t) => {
    const env = {
      PORT: '0',
      JWT_SECRET: randomBytes(32).toString('base64url'),
      JWT_ISSUER: 'https://auth.cli-process.test',
      JWT_AUDIENCE: 'dis-gateway',
      JWT_ALGORITHMS: 'HS256',
      GATEWAY_STREAMS: 'clicks=dis-clicks:1,orders=dis-orders:1',
    };
    const clicksOnly = await mint(env, ['--scope', 'dis:write:clicks', '--sub', 'svc-clicks']);
    const anyStream = await mint(env, []);
    const gateway = await spawnGateway(t, { env });

    const granted = await postRecord(gateway.url, 'clicks', clicksOnly);
    const refused = await postRecord(gateway.url, 'orders', clicksOnly);
    const wildcard = await postRecord(gateway.url, 'orders', anyStream);

    assert.equal(granted.status, 200, granted.text);
    assert.match(granted.text, /"status":"ok"/);
    assert.equal(refused.status, 403, refused.text);
    assert.equal(wildcard.status, 200, wildcard.text);
    assert.equal(await gateway.stop('SIGINT'), 0);
  });

  it('without an HS secret, exits 1 with the reason on stderr and prints no token', async () => {
    const result = await runMain({ env: { PORT: '0' }, args: ['token'], timeoutMs: 10_000 });

    assert.equal(result.code, 1, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /set JWT_SECRET/);
  });
});

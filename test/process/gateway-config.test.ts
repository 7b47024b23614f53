import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isRecord } from '../../src/config/env-overrides.ts';
import { runMain } from '../helpers/process-gateway.ts';

const STACK_FRAME = /^\s+at .+(:\d+:\d+\)?|\(native\)|<anonymous>\)?)$/m;

describe('configuration errors at the process level', () => {
  it('in production with nothing set, the process exits 1 listing every missing setting, without a stack trace', async () => {
    const result = await runMain({ env: { NODE_ENV: 'production', PORT: '0' } });

    assert.equal(result.code, 1, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
    assert.doesNotMatch(result.stdout, /listening on/);
    const expected = {
      'DIS endpoint': /missing DIS endpoint: set DIS_ENDPOINT/,
      'project id': /missing DIS project id: set DIS_PROJECT_ID/,
      AK: /missing DIS access key \(AK\): set DIS_AK/,
      SK: /missing DIS secret key \(SK\): set DIS_SK/,
      Redis: /missing Redis: set REDIS_URL/,
      'JWT key': /missing JWT verification key: set JWT_SECRET/,
      issuer: /missing JWT issuer: set JWT_ISSUER/,
      audience: /missing JWT audience: set JWT_AUDIENCE/,
      algorithms: /missing JWT algorithms: set JWT_ALGORITHMS/,
      streams: /missing streams: set GATEWAY_STREAMS/,
    };
    for (const [what, pattern] of Object.entries(expected)) {
      assert.match(result.stderr, pattern, `stderr names the missing ${what}`);
    }
    assert.match(result.stderr, /The configuration has 10 problems:/);
    assert.doesNotMatch(result.stderr, STACK_FRAME);
    assert.doesNotMatch(result.stderr, /node:internal|Error:/);
  });

  it('check-config with secrets in the environment exits 0 and prints the config as JSON without any secret value', async () => {
    const jwtSecret = randomBytes(32).toString('base64url');
    const sk = `sk-${randomBytes(16).toString('hex')}`;
    const ak = `AK${randomBytes(8).toString('hex').toUpperCase()}`;
    const redisPassword = `pw-${randomBytes(12).toString('hex')}`;
    const result = await runMain({
      args: ['check-config'],
      env: {
        DIS_ENDPOINT: 'https://dis.cn-north-4.myhuaweicloud.com',
        DIS_PROJECT_ID: randomBytes(16).toString('hex'),
        DIS_AK: ak,
        DIS_SK: sk,
        REDIS_URL: `redis://:${redisPassword}@127.0.0.1:6390/0`,
        JWT_SECRET: jwtSecret,
        JWT_ISSUER: 'https://auth.test.internal',
        JWT_AUDIENCE: 'dis-gateway',
        JWT_ALGORITHMS: 'HS256',
        GATEWAY_STREAMS: 'clicks=dis-clicks:2',
      },
    });

    assert.equal(result.code, 0, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
    const all = result.stdout + result.stderr;
    for (const secret of [jwtSecret, sk, redisPassword, ak]) {
      assert.ok(!all.includes(secret), 'a secret value appears in the output');
    }
    const heading = 'Effective configuration, secrets redacted:\n';
    const at = result.stdout.indexOf(heading);
    assert.ok(at >= 0, result.stdout);
    const printed: unknown = JSON.parse(result.stdout.slice(at + heading.length));
    assert.deepEqual(
      {
        // The redacted fields are there, just not their values.
        sk: pick(printed, ['dis', 'auth', 'sk']),
        secrets: pick(printed, ['auth', 'jwt', 'secrets']),
        redis: pick(printed, ['redis', 'url']),
        streams: pick(printed, ['streams', 'clicks', 'disStream']),
      },
      {
        sk: '[redacted]',
        secrets: ['[redacted]'],
        redis: 'redis://:[redacted]@127.0.0.1:6390/0',
        streams: 'dis-clicks',
      },
    );
  });

  it('check-config with a secret written in the GATEWAY_CONFIG file exits 1 naming the key, not the value', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'gw-process-config-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const sk = `literal-sk-${randomBytes(12).toString('hex')}`;
    const jwtSecret = `literal-jwt-${randomBytes(24).toString('hex')}`;
    const path = join(dir, 'gateway.json');
    await writeFile(
      path,
      JSON.stringify({
        dis: { auth: { sk } },
        auth: { jwt: { secret: jwtSecret, issuer: 'iss', audience: 'aud' } },
      }),
    );

    const result = await runMain({ args: ['check-config'], env: { GATEWAY_CONFIG: path } });

    assert.equal(result.code, 1, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
    const all = result.stdout + result.stderr;
    assert.match(all, /dis\.auth\.sk: secrets must not be written in the config file/);
    assert.match(all, /auth\.jwt\.secret: secrets must not be written in the config file/);
    assert.ok(!all.includes(sk), 'the literal SK appears in the output');
    assert.ok(!all.includes(jwtSecret), 'the literal JWT secret appears in the output');
    assert.doesNotMatch(all, STACK_FRAME);
  });

  it('check-config in production with template placeholders exits 1 naming each key, and never prints the placeholder secret', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'gw-process-placeholder-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const skFile = join(dir, 'dis-sk');
    const sk = `REPLACE_ME-${randomBytes(8).toString('hex')}`;
    await writeFile(skFile, `${sk}\n`);

    const result = await runMain({
      args: ['check-config'],
      env: {
        NODE_ENV: 'production',
        DIS_ENDPOINT: 'https://dis.cn-north-4.myhuaweicloud.com',
        DIS_PROJECT_ID: randomBytes(16).toString('hex'),
        DIS_AK: `AK${randomBytes(8).toString('hex').toUpperCase()}`,
        DIS_SK_FILE: skFile,
        REDIS_URL: 'redis://REPLACE-redis-host:6379/0',
        JWT_SECRET: randomBytes(32).toString('base64url'),
        JWT_ISSUER: 'REPLACE-with-your-token-issuer',
        JWT_AUDIENCE: 'dis-gateway',
        JWT_ALGORITHMS: 'HS256',
        GATEWAY_STREAMS: 'clicks=dis-clicks:2',
      },
    });

    assert.notEqual(result.code, 0, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
    const all = result.stdout + result.stderr;
    assert.match(all, /The configuration has 3 problems:/);
    assert.match(all, /JWT_ISSUER \(auth\.jwt\.issuer\[0\]\): holds a placeholder/);
    assert.match(all, /REDIS_URL \(redis\.url\): holds a placeholder/);
    assert.ok(all.includes(`DIS_SK_FILE (${skFile}): holds a placeholder`), all);
    assert.ok(!all.includes(sk), "the SK file's value appears in the output");
    assert.doesNotMatch(all, /Effective configuration/);
    assert.doesNotMatch(all, STACK_FRAME);
  });
});

function pick(value: unknown, path: readonly string[]): unknown {
  let node = value;
  for (const key of path) {
    if (!isRecord(node)) return undefined;
    node = node[key];
  }
  return node;
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import { createJwtVerifier } from '../../src/auth/jwt-verifier.ts';
import { authorizeStream } from '../../src/auth/principal.ts';
import {
  DEFAULT_LIFETIME_S,
  MAX_LIFETIME_S,
  runTokenCommand,
} from '../../src/cli/token-command.ts';
import type { Env } from '../../src/config/env-overrides.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import {
  NOW_MS,
  NOW_S,
  assertInvalidToken,
  bearer,
  ecKeyPair,
  randomSecret,
} from '../helpers/jwt-tokens.ts';

interface Run {
  readonly code: number;
  readonly out: string[];
  readonly err: string[];
}

/** Files the command may read, by path; any other path fails the way a missing file does. */
type Files = Readonly<Record<string, string>>;

function readFrom(files: Files) {
  return (path: string): string => {
    const text = files[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return text;
  };
}

function run(argv: readonly string[], env: Env, files: Files = {}): Run {
  const out: string[] = [];
  const err: string[] = [];
  const code = runTokenCommand(argv, {
    env,
    readFile: readFrom(files),
    write: (line) => out.push(line),
    warn: (line) => err.push(line),
    now: () => NOW_MS,
  });
  return { code, out, err };
}

/** A production-shaped configuration, so nothing is guessed in dev mode. */
function productionEnv(secret: string, extra: Env = {}): Env {
  return {
    NODE_ENV: 'production',
    DIS_ENDPOINT: 'https://dis.cn-north-4.myhuaweicloud.com',
    DIS_PROJECT_ID: '0123456789abcdef0123456789abcdef',
    DIS_AK: 'AKTESTCLI0000001',
    DIS_SK: 'sk-cli-test-0000000000000000',
    REDIS_URL: 'redis://127.0.0.1:6379/0',
    JWT_SECRET: secret,
    JWT_ISSUER: 'https://auth.cli.test',
    JWT_AUDIENCE: 'dis-gateway-cli',
    JWT_ALGORITHMS: 'HS256',
    GATEWAY_STREAMS: 'clicks=dis-clicks:2,orders=dis-orders:1',
    ...extra,
  };
}

/** The verifier the gateway builds from the same environment, at the given instant. */
function verifierFor(env: Env, nowMs = NOW_MS, files: Files = {}) {
  const loaded = loadConfig(env, readFrom(files));
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.problems.join('\n'));
  const { jwt: config } = loaded.config.auth;
  return createJwtVerifier({
    algorithms: config.algorithms,
    issuer: config.issuer,
    audience: config.audience,
    secrets: config.secrets,
    publicKeys: config.publicKeys,
    principalClaim: config.principalClaim,
    scopeClaim: config.scopeClaim,
    clockToleranceS: config.clockToleranceS,
    now: () => nowMs,
  });
}

function onlyToken(result: Run): string {
  assert.equal(result.code, 0, result.err.join('\n'));
  assert.equal(result.out.length, 1, 'stdout holds the token alone');
  const [token] = result.out;
  assert.ok(token !== undefined);
  assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  return token;
}

describe('dis-gateway token', () => {
  it('with no flags, mints an hour-long dis:write:* token for dev that the configured verifier accepts', async () => {
    const env = productionEnv(randomSecret());

    const token = onlyToken(run([], env));

    const principal = await verifierFor(env).authenticate(bearer(token));
    assert.equal(principal.id, 'dev');
    assert.deepEqual([...principal.scopes], ['dis:write:*']);
    authorizeStream(principal, 'clicks');
    const payload = jwt.decode(token, { json: true });
    assert.equal(payload?.iat, NOW_S);
    assert.equal(payload.exp, NOW_S + DEFAULT_LIFETIME_S);
    assert.equal(payload.iss, 'https://auth.cli.test');
    assert.equal(payload.aud, 'dis-gateway-cli');
  });

  it('repeated --scope, --sub and --lifetime end up in the token, and only the named streams are granted', async () => {
    const env = productionEnv(randomSecret());

    const token = onlyToken(
      run(
        [
          '--scope',
          'dis:write:clicks',
          '--scope=dis:write:orders',
          '--sub',
          'svc-orders',
          '--lifetime',
          '120',
        ],
        env,
      ),
    );

    const principal = await verifierFor(env).authenticate(bearer(token));
    assert.equal(principal.id, 'svc-orders');
    authorizeStream(principal, 'clicks');
    authorizeStream(principal, 'orders');
    assert.throws(() => {
      authorizeStream(principal, 'payments');
    }, /dis:write:payments/);
    // 120 s plus the 30 s clock tolerance, then the gateway refuses it.
    await verifierFor(env, NOW_MS + 149_000).authenticate(bearer(token));
    await assertInvalidToken(verifierFor(env, NOW_MS + 151_000).authenticate(bearer(token)));
  });

  it('a token minted under one secret is refused by a gateway configured with another', async () => {
    const token = onlyToken(run([], productionEnv(randomSecret())));

    await assertInvalidToken(
      verifierFor(productionEnv(randomSecret())).authenticate(bearer(token)),
    );
  });

  it('with rotated secrets, signs with the first, using the HS algorithm the config allows', async () => {
    const [current, previous] = [randomSecret(), randomSecret()];
    const files = { '/keys/es256.pem': ecKeyPair().publicPem };
    const env = productionEnv(`${current},${previous}`, {
      JWT_ALGORITHMS: 'ES256,HS512',
      JWT_PUBLIC_KEY_FILE: '/keys/es256.pem',
    });

    const token = onlyToken(run([], env, files));

    assert.equal(jwt.decode(token, { complete: true })?.header.alg, 'HS512');
    jwt.verify(token, current, { algorithms: ['HS512'], clockTimestamp: NOW_S });
    assert.throws(
      () => jwt.verify(token, previous, { algorithms: ['HS512'], clockTimestamp: NOW_S }),
      /signature/,
    );
    await verifierFor(env, NOW_MS, files).authenticate(bearer(token));
  });

  it('reads the secret from the config file named by GATEWAY_CONFIG through the injected reader', async () => {
    const secret = randomSecret();
    const files = {
      '/etc/gw/config.yaml': 'auth:\n  jwt:\n    secret_file: /run/secrets/jwt\n',
      '/run/secrets/jwt': `${secret}\n`,
    };
    const env = { ...productionEnv(''), GATEWAY_CONFIG: '/etc/gw/config.yaml' };

    const token = onlyToken(run(['--sub', 'from-file'], env, files));

    const principal = await verifierFor(env, NOW_MS, files).authenticate(bearer(token));
    assert.equal(principal.id, 'from-file');
  });

  it('--help prints the usage on stdout, exits 0 and mints nothing even without a configuration', () => {
    const result = run(['--help'], {});

    assert.equal(result.code, 0);
    const usage = result.out.join('\n');
    assert.match(usage, /^Usage: dis-gateway token/);
    for (const flag of ['--scope', '--sub', '--lifetime', '--help'])
      assert.ok(usage.includes(flag), flag);
    assert.doesNotMatch(usage, /^[\w-]+\.[\w-]+\.[\w-]+$/m);
  });

  const badFlags: readonly (readonly [string, readonly string[], RegExp])[] = [
    ['an unknown flag', ['--scopes', 'dis:write:*'], /Unknown option '--scopes'/],
    ['a positional argument', ['dis:write:*'], /positional/],
    ['--scope without a value', ['--scope'], /--scope/],
    ['a scope with a space', ['--scope', 'dis:write:a dis:write:b'], /invalid scope/],
    ['an empty scope', ['--scope', ''], /invalid scope/],
    ['a zero lifetime', ['--lifetime', '0'], /--lifetime must be/],
    ['a lifetime above the maximum', ['--lifetime', String(MAX_LIFETIME_S + 1)], /1\.\.86400/],
    ['a lifetime that is not a number', ['--lifetime', '1h'], /got "1h"/],
    ['a negative lifetime', ['--lifetime=-5'], /--lifetime must be/],
    ['an empty subject', ['--sub', ' '], /--sub must not be empty/],
  ];
  for (const [what, argv, message] of badFlags) {
    it(`${what} exits 2 with a message on stderr and nothing on stdout`, () => {
      const result = run(argv, productionEnv(randomSecret()));

      assert.equal(result.code, 2, result.err.join('\n'));
      assert.deepEqual(result.out, []);
      assert.match(result.err.join('\n'), message);
    });
  }

  it('with only an ES public key configured, exits 1 explaining that public keys cannot sign', () => {
    const pem = ecKeyPair().publicPem;
    const env = productionEnv('', {
      JWT_PUBLIC_KEY_FILE: '/keys/es256.pem',
      JWT_ALGORITHMS: 'ES256',
    });

    const result = run([], env, { '/keys/es256.pem': pem });

    assert.equal(result.code, 1, result.err.join('\n'));
    assert.deepEqual(result.out, []);
    assert.match(result.err.join('\n'), /no HS secret is configured.*cannot sign/);
  });

  it('with a secret but no HS algorithm allowed, exits 1 rather than mint a token the gateway refuses', () => {
    const pem = ecKeyPair().publicPem;
    const env = productionEnv(randomSecret(), {
      JWT_PUBLIC_KEY_FILE: '/keys/es256.pem',
      JWT_ALGORITHMS: 'ES256',
    });

    const result = run([], env, { '/keys/es256.pem': pem });

    assert.equal(result.code, 1);
    assert.deepEqual(result.out, []);
    assert.match(result.err.join('\n'), /allows ES256: no HS algorithm/);
  });

  it('in dev mode without a JWT key, exits 1 pointing at JWT_SECRET: the running gateway makes its own secret', () => {
    const result = run([], { PORT: '0' });

    assert.equal(result.code, 1);
    assert.deepEqual(result.out, []);
    assert.match(result.err.join('\n'), /set JWT_SECRET/);
  });

  it('when the gateway reads a different scope claim, exits 1 instead of minting a token without scopes', () => {
    const files = { '/etc/gw/config.yaml': 'auth:\n  jwt:\n    scope_claim: scp\n' };
    const env = { ...productionEnv(randomSecret()), GATEWAY_CONFIG: '/etc/gw/config.yaml' };

    const result = run([], env, files);

    assert.equal(result.code, 1);
    assert.deepEqual(result.out, []);
    assert.match(result.err.join('\n'), /scope_claim are sub \/ scp/);
  });

  it('with an invalid configuration, exits 1 listing its problems and never prints the secret', () => {
    const secret = randomSecret();
    const result = run([], { NODE_ENV: 'production', JWT_SECRET: secret });

    assert.equal(result.code, 1);
    assert.deepEqual(result.out, []);
    const err = result.err.join('\n');
    assert.match(err, /invalid configuration/);
    assert.match(err, /missing DIS endpoint/);
    assert.match(err, /missing Redis/);
    assert.ok(!err.includes(secret), 'the secret is not echoed');
  });

  it('the stderr summary names subject, scopes, issuer, audience and expiry but not the secret', () => {
    const secret = randomSecret();

    const result = run(['--sub', 'alice', '--lifetime', '60'], productionEnv(secret));

    onlyToken(result);
    const summary = result.err.join('\n');
    assert.match(summary, /HS256 token for alice, scope dis:write:\*/);
    assert.match(summary, /iss https:\/\/auth\.cli\.test, aud dis-gateway-cli/);
    assert.ok(summary.includes(new Date(NOW_MS + 60_000).toISOString()), summary);
    assert.ok(!summary.includes(secret));
  });
});

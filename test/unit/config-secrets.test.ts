import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { runConfigCheck } from '../../src/config/check-command.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { expectConfig, expectProblems, filesFrom } from '../helpers/config-results.ts';
import { redactConfig } from '../../src/config/redact.ts';

const PROJECT_ID = 'fedcba9876543210fedcba9876543210';

const REMOTE_DIS = {
  DIS_ENDPOINT: 'https://dis.cn-north-4.myhuaweicloud.com',
  DIS_PROJECT_ID: PROJECT_ID,
};

describe('loadConfig: secrets', () => {
  it('when secrets come as NAME_FILE, the file contents are used without the trailing newline', () => {
    const config = expectConfig(
      loadConfig(
        {
          ...REMOTE_DIS,
          DIS_AK_FILE: '/run/secrets/ak',
          DIS_SK_FILE: '/run/secrets/sk',
          DIS_SECURITY_TOKEN_FILE: '/run/secrets/token',
          JWT_SECRET_FILE: '/run/secrets/jwt',
        },
        filesFrom({
          '/run/secrets/ak': 'AKFILE00000001\n',
          '/run/secrets/sk': 'sk from file with spaces \r\n',
          '/run/secrets/token': 'security-token-from-file',
          '/run/secrets/jwt':
            'jwt-secret-a-0123456789abcdefghijk,jwt-secret-b-0123456789abcdefghijk\n',
        }),
      ),
    );
    assert.ok(config.dis.mode === 'remote');
    assert.deepEqual(config.dis.auth, {
      type: 'aksk',
      ak: 'AKFILE00000001',
      sk: 'sk from file with spaces ',
      securityToken: 'security-token-from-file',
    });
    assert.deepEqual(config.auth.jwt.secrets, [
      'jwt-secret-a-0123456789abcdefghijk',
      'jwt-secret-b-0123456789abcdefghijk',
    ]);
  });

  it('when the file names env vars and files for secrets, they are read from there', () => {
    const file = `
dis: { endpoint: "https://dis.cn-north-4.myhuaweicloud.com", project_id: "${PROJECT_ID}",
       auth: { ak_env: MY_AK, sk_file: /secrets/sk } }
redis: { url: "rediss://redis.internal:6380", password_env: MY_REDIS_PASSWORD }
auth: { jwt: { secrets_env: [JWT_A, JWT_B], issuer: iss, audience: aud, algorithms: [HS256] } }
`;
    const config = expectConfig(
      loadConfig(
        {
          GATEWAY_CONFIG: '/c.yaml',
          MY_AK: 'AKNAMED000001',
          MY_REDIS_PASSWORD_FILE: '/secrets/redis',
          JWT_A: 'named-jwt-secret-a-0123456789abcdefghij',
          JWT_B: 'named-jwt-secret-b-0123456789abcdefghij',
        },
        filesFrom({ '/c.yaml': file, '/secrets/sk': 'named-sk\n', '/secrets/redis': 'redis-pw\n' }),
      ),
    );
    assert.ok(config.dis.mode === 'remote' && config.dis.auth.type === 'aksk');
    assert.equal(config.dis.auth.ak, 'AKNAMED000001');
    assert.equal(config.dis.auth.sk, 'named-sk');
    assert.ok(config.redis.mode === 'standalone');
    assert.equal(
      config.redis.url,
      'rediss://:redis-pw@redis.internal:6380',
      'password folded into the URL',
    );
    assert.deepEqual(config.auth.jwt.secrets, [
      'named-jwt-secret-a-0123456789abcdefghij',
      'named-jwt-secret-b-0123456789abcdefghij',
    ]);
  });

  it('when secret sources are broken, each is reported without its value', () => {
    const file = `
dis: { endpoint: "https://dis.cn-north-4.myhuaweicloud.com", project_id: "${PROJECT_ID}",
       auth: { sk_env: MISSING_SK } }
webhooks: { sources: { gh: { profile: github, secret_file: /nope, stream: s } } }
streams: { s: { dis_stream: s, partitions: 1 } }
`;
    const problems = expectProblems(
      loadConfig(
        {
          GATEWAY_CONFIG: '/c.yaml',
          DIS_AK: 'AKVALUE-should-not-leak',
          DIS_AK_FILE: '/also/set',
          JWT_SECRET_FILE: '/empty',
        },
        filesFrom({ '/c.yaml': file, '/empty': '\n' }),
      ),
    );
    assert.deepEqual(problems, [
      'DIS_AK and DIS_AK_FILE are both set; set only one',
      'dis.auth.sk_env names MISSING_SK, which is not set (nor MISSING_SK_FILE)',
      'JWT_SECRET_FILE: /empty is empty',
      'webhooks.sources.gh.secret_file: cannot read /nope (ENOENT)',
    ]);
  });

  it('when a secret is written literally in the file, it is rejected without echoing it', () => {
    const file = `
dis: { auth: { ak: AKLITERAL, sk: "sk-literal-value" } }
redis: { url: "redis://:redis-literal-pw@127.0.0.1:6379", password: also-literal }
auth: { jwt: { secret: jwt-literal-value } }
streams: { secret: { dis_stream: named-secret-is-fine, partitions: 1 } }
webhooks: { sources: { gh: { profile: github, secrets: [gh-literal], stream: secret } } }
`;
    const problems = expectProblems(
      loadConfig({ GATEWAY_CONFIG: '/c.yaml' }, filesFrom({ '/c.yaml': file })),
    );
    assert.deepEqual(problems, [
      'dis.auth.ak: secrets must not be written in the config file; name them with ak_env or ak_file',
      'dis.auth.sk: secrets must not be written in the config file; name them with sk_env or sk_file',
      'redis.password: secrets must not be written in the config file; name them with password_env or password_file',
      'auth.jwt.secret: secrets must not be written in the config file; name them with secret_env or secret_file',
      'webhooks.sources.gh.secrets: secrets must not be written in the config file; name them with secrets_env or secret_files',
      'redis.url: holds a password; name it with redis.password_env or redis.password_file, or set the whole URL in REDIS_URL',
      // With its literal secrets taken out, the source has none left.
      'webhooks.sources.gh: needs at least one secret (secret_env, secrets_env, secret_file or secret_files)',
    ]);
    const text = problems.join('\n');
    for (const value of [
      'AKLITERAL',
      'sk-literal-value',
      'redis-literal-pw',
      'also-literal',
      'jwt-literal-value',
      'gh-literal',
    ])
      assert.ok(!text.includes(value), `${value} leaked into the problems`);
  });

  it('when a private key is given as a JWT public key, it is rejected', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const problems = expectProblems(
      loadConfig({ JWT_PUBLIC_KEY_FILE: '/keys/jwt.pem' }, filesFrom({ '/keys/jwt.pem': pem })),
    );
    assert.deepEqual(problems, [
      'JWT_PUBLIC_KEY_FILE: is a private key; the gateway needs only the public key',
    ]);
  });
});

describe('redactConfig and runConfigCheck', () => {
  const secrets = {
    DIS_AK: 'AKREDACTME000001',
    DIS_SK: 'sk-must-never-be-printed',
    DIS_SECURITY_TOKEN: 'security-token-must-never-be-printed',
    JWT_SECRET: 'jwt-one-must-never-be-printed-0123456789,jwt-two-must-never-be-printed-0123456789',
    REDIS_PASSWORD: 'redis-password-must-never-be-printed',
    WEBHOOK_ONE: 'webhook-one-must-never-be-printed',
    WEBHOOK_TWO: 'webhook-two-must-never-be-printed',
    SLACK_SECRET: 'slack-secret-must-never-be-printed',
    JWT_HS_NAMED: 'jwt-named-must-never-be-printed-0123456789',
  };
  const file = `
redis: { sentinels: [{ host: s1 }, { host: s2, port: 26380 }], name: mymaster, password_env: REDIS_PASSWORD,
         sentinel_password_file: /secrets/sentinel, db: 2 }
auth: { jwt: { issuer: iss, audience: aud, algorithms: [HS256], hs_keys: [{ kid: hs-1, secret_env: JWT_HS_NAMED }] } }
streams: { gh: { dis_stream: dis-gh, partitions: 1 } }
webhooks:
  sources:
    gh: { profile: github, secrets_env: [WEBHOOK_ONE, WEBHOOK_TWO], stream: gh }
    slack: { profile: slack, secret_env: SLACK_SECRET, stream: gh, mode: sync }
`;
  const env = { ...REMOTE_DIS, ...secrets, GATEWAY_CONFIG: '/c.yaml' };
  const readFile = filesFrom({
    '/c.yaml': file,
    '/secrets/sentinel': 'sentinel-password-must-never-be-printed\n',
  });
  const secretValues = [
    ...Object.values(secrets).flatMap((value) => value.split(',')),
    'url-password-must-never-be-printed',
    'sentinel-password-must-never-be-printed',
    'named-redis-password-must-never-be-printed',
  ];

  it('when every kind of secret is set, none of their values appears in the redacted JSON', () => {
    const config = expectConfig(loadConfig(env, readFile));
    const text = JSON.stringify(redactConfig(config));
    for (const value of secretValues) assert.ok(!text.includes(value), `${value} leaked`);
    // Redaction keeps the shape: rotation counts and which AK is in use stay visible.
    assert.match(text, /"ak":"AKRE…"/);
    assert.match(text, /"secrets":\["\[redacted\]","\[redacted\]"\]/);
    // Settings beside the secrets stay in the dump (the webhook section's own ones too).
    assert.match(text, /"syncWaitMs":\d+,"replayTtlS":\d+/);
    assert.ok(config.redis.mode === 'sentinel');
    assert.equal(config.redis.password, secrets.REDIS_PASSWORD);
    assert.equal(config.redis.sentinelPassword, 'sentinel-password-must-never-be-printed');

    const withUrl = expectConfig(
      loadConfig(
        { REDIS_URL: 'redis://user:url-password-must-never-be-printed@127.0.0.1:6379/1' },
        filesFrom({}),
      ),
    );
    const urlText = JSON.stringify(redactConfig(withUrl));
    assert.ok(!urlText.includes('url-password-must-never-be-printed'));
    assert.match(urlText, /redis:\/\/user:\[redacted\]@127\.0\.0\.1:6379\/1/);

    const folded = expectConfig(
      loadConfig(
        {
          REDIS_URL: 'redis://127.0.0.1:6379',
          GATEWAY_CONFIG: '/r.yaml',
          RPW: 'named-redis-password-must-never-be-printed',
        },
        filesFrom({ '/r.yaml': 'redis: { password_env: RPW }' }),
      ),
    );
    const foldedText = JSON.stringify(redactConfig(folded));
    assert.ok(
      folded.redis.mode === 'standalone' && folded.redis.url.includes('named-redis-password'),
    );
    for (const value of secretValues) assert.ok(!foldedText.includes(value), `${value} leaked`);
  });

  it('when the config is valid, config check prints warnings and the redacted config and exits 0', () => {
    const lines: string[] = [];
    const code = runConfigCheck(env, readFile, (line) => lines.push(line));
    assert.equal(code, 0);
    const text = lines.join('\n');
    for (const value of secretValues) assert.ok(!text.includes(value), `${value} leaked`);
    const start = lines.findIndex((line) => line === '{');
    const printed: unknown = JSON.parse(lines.slice(start).join('\n'));
    assert.deepEqual(
      printed,
      JSON.parse(JSON.stringify(redactConfig(expectConfig(loadConfig(env, readFile))))),
    );
  });

  it('when the config is invalid, config check prints every problem and exits 1', () => {
    const lines: string[] = [];
    const code = runConfigCheck({ NODE_ENV: 'production', PORT: 'x' }, readFile, (line) =>
      lines.push(line),
    );
    assert.equal(code, 1);
    assert.equal(lines[0], 'The configuration has 11 problems:');
    assert.equal(lines[1], '  - PORT: must be a whole number, got "x"');
    assert.equal(lines.length, 12);
  });
});

describe('loadConfig: auth.jwt.hs_keys and the JWKS bounds', () => {
  const NAMED = 'a-named-hs-secret-long-enough-for-hs256-0123';
  const load = (
    jwt: string,
    env: Record<string, string> = {},
    files: Record<string, string> = {},
  ) =>
    loadConfig(
      { GATEWAY_CONFIG: '/c.yaml', ...env },
      filesFrom({
        '/c.yaml': `auth: { jwt: { issuer: iss, audience: aud${jwt} } }\n`,
        ...files,
      }),
    );

  it('hs_keys name secrets by kid, from an env var or a file, beside the unnamed ones', () => {
    const config = expectConfig(
      load(
        ', algorithms: [HS256], secret_env: JWT_SECRET, hs_keys: [{ kid: a, secret_env: HS_A }, { kid: b, secret_file: /run/b }]',
        { JWT_SECRET: `unnamed-${NAMED}`, HS_A: NAMED },
        { '/run/b': `b-${NAMED}\n` },
      ),
    );
    assert.deepEqual(config.auth.jwt.secrets, [`unnamed-${NAMED}`]);
    assert.deepEqual(config.auth.jwt.hsKeys, [
      { kid: 'a', secret: NAMED },
      { kid: 'b', secret: `b-${NAMED}` },
    ]);
    assert.equal(config.auth.jwt.dev, false);
  });

  it('hs_keys alone are a JWT key: no dev secret, and no other key is needed', () => {
    const config = expectConfig(
      load(', algorithms: [HS256], hs_keys: [{ kid: a, secret_env: HS_A }]', { HS_A: NAMED }),
    );
    assert.equal(config.auth.jwt.dev, false);
    assert.deepEqual(config.auth.jwt.secrets, []);
  });

  it('bad hs_keys entries are each reported', () => {
    assert.deepEqual(
      expectProblems(
        load(
          ', algorithms: [HS256], hs_keys: [{ kid: a, secret_env: HS_A }, { kid: a, secret_env: HS_A }, { kid: c }, { kid: d, secret_env: HS_D, secret_file: /run/d }, { kid: e, secret_env: UNSET }]',
          { HS_A: NAMED, HS_D: NAMED },
          { '/run/d': NAMED },
        ),
      ),
      [
        'auth.jwt.hs_keys[2]: give secret_env or secret_file',
        'auth.jwt.hs_keys[3]: give only one of auth.jwt.hs_keys[3].secret_env, auth.jwt.hs_keys[3].secret_file',
        'auth.jwt.hs_keys[4].secret_env names UNSET, which is not set',
        'auth.jwt.hs_keys: kid a is given twice',
      ],
    );
  });

  it('jwks_max_age_s and jwks_fetch_timeout_ms default to 600 s and 1000 ms and may be set', () => {
    const url = ', algorithms: [RS256], jwks_url: "https://auth.test/jwks.json"';
    const defaults = expectConfig(load(url)).auth.jwt;
    assert.equal(defaults.jwksMaxAgeMs, 600_000);
    assert.equal(defaults.jwksFetchTimeoutMs, 1_000);
    const set = expectConfig(load(`${url}, jwks_max_age_s: 30, jwks_fetch_timeout_ms: 250`)).auth
      .jwt;
    assert.equal(set.jwksMaxAgeMs, 30_000);
    assert.equal(set.jwksFetchTimeoutMs, 250);
  });

  it('jwks_max_age_s and jwks_fetch_timeout_ms out of range are refused', () => {
    const problems = expectProblems(load(', jwks_max_age_s: 0, jwks_fetch_timeout_ms: 5001'));
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.match(problems[0] ?? '', /jwks_max_age_s/);
    assert.match(problems[1] ?? '', /jwks_fetch_timeout_ms/);
  });
});

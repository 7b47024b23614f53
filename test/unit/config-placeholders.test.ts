import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load-config.ts';
import { expectConfig, expectProblems, filesFrom } from '../helpers/config-results.ts';

const PROJECT_ID = 'aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb';
const HINT = 'holds a placeholder (REPLACE… or CHANGE-ME), not a real value';

/** A production start that passes every check; each test spoils one thing. */
const PRODUCTION = {
  NODE_ENV: 'production',
  DIS_ENDPOINT: 'https://dis.cn-north-4.myhuaweicloud.com',
  DIS_PROJECT_ID: PROJECT_ID,
  DIS_AK: 'AK0000000001',
  DIS_SK: 'sk-0123456789abcdef',
  REDIS_URL: 'redis://10.0.0.5:6379/0',
  JWT_SECRET: 'a-jwt-secret-long-enough-for-hs256-0123456789',
  JWT_ISSUER: 'https://auth.internal',
  JWT_AUDIENCE: 'dis-gateway',
  JWT_ALGORITHMS: 'HS256',
  GATEWAY_STREAMS: 'clicks=dis-clicks:2',
} as const;

const CONFIG_FILE = `
dis:
  project_id: REPLACE-with-the-32-hex-project-id-of-the-region
redis:
  url: redis://REPLACE-redis-host:6379/0
`;

describe('loadConfig: template placeholders', () => {
  it('when the production baseline is used as it is, it loads (no false positive)', () => {
    expectConfig(loadConfig(PRODUCTION, filesFrom({})));
  });

  it('when production has REPLACE placeholders in the issuer, the Redis URL and the project id, each is refused by its key', () => {
    const env = {
      ...PRODUCTION,
      // Unset, so that the file's values are the ones used.
      DIS_PROJECT_ID: '',
      REDIS_URL: '',
      JWT_ISSUER: 'REPLACE-with-your-token-issuer',
      GATEWAY_CONFIG: '/c.yaml',
    };
    const problems = expectProblems(loadConfig(env, filesFrom({ '/c.yaml': CONFIG_FILE })));

    for (const key of ['dis.project_id', 'redis.url', 'JWT_ISSUER (auth.jwt.issuer[0])'])
      assert.ok(problems.includes(`${key}: ${HINT}`), `${key} in:\n${problems.join('\n')}`);
  });

  it('when production reads secrets that are placeholders, it names where they came from and never their values', () => {
    const jwtSecret = 'compose-jwt-secret-CHANGE-ME-0123456789abcdef';
    const sk = 'REPLACE_ME';
    const problems = expectProblems(
      loadConfig(
        { ...PRODUCTION, DIS_SK: '', DIS_SK_FILE: '/run/secrets/dis-sk', JWT_SECRET: jwtSecret },
        filesFrom({ '/run/secrets/dis-sk': `${sk}\n` }),
      ),
    );

    assert.deepEqual(problems, [
      `DIS_SK_FILE (/run/secrets/dis-sk): ${HINT}`,
      `JWT_SECRET: ${HINT}`,
    ]);
    const text = problems.join('\n');
    assert.ok(!text.includes(jwtSecret), 'the JWT secret appears in a problem');
    assert.ok(!text.includes(sk), 'the SK appears in a problem');
  });

  it('when a webhook source’s secret is a placeholder, production refuses it too', () => {
    const file = `
webhooks:
  sources:
    gh:
      profile: github
      secret_env: GITHUB_WEBHOOK_SECRET
      stream: clicks
`;
    const problems = expectProblems(
      loadConfig(
        { ...PRODUCTION, GATEWAY_CONFIG: '/c.yaml', GITHUB_WEBHOOK_SECRET: 'REPLACE_ME' },
        filesFrom({ '/c.yaml': file }),
      ),
    );
    assert.deepEqual(problems, [`GITHUB_WEBHOOK_SECRET: ${HINT}`]);
  });

  it('when the unedited deploy/base config is checked in production, its three REPLACE values are listed', () => {
    const path = new URL('../../deploy/base/gateway-config.yaml', import.meta.url).pathname;
    const problems = expectProblems(
      loadConfig({ NODE_ENV: 'production', GATEWAY_CONFIG: path }, (file) =>
        readFileSync(file, 'utf8'),
      ),
    );

    for (const key of ['dis.project_id', 'redis.url', 'auth.jwt.issuer'])
      assert.ok(problems.includes(`${key}: ${HINT}`), `${key} in:\n${problems.join('\n')}`);
  });

  it('in dev mode the same placeholders load, with a warning each', () => {
    const result = loadConfig(
      {
        JWT_SECRET: 'dev-jwt-secret-CHANGE-ME-0123456789abcdef',
        JWT_ISSUER: 'REPLACE-issuer',
        REDIS_URL: 'redis://REPLACE-redis-host:6379/0',
      },
      filesFrom({}),
    );

    assert.equal(result.ok, true);
    assert.ok(result.ok);
    assert.deepEqual(
      result.warnings.filter((warning) => warning.includes(HINT)),
      [
        `JWT_SECRET: ${HINT}`,
        `REDIS_URL (redis.url): ${HINT}`,
        `JWT_ISSUER (auth.jwt.issuer[0]): ${HINT}`,
      ],
    );
  });

  it('the markers are case-sensitive: ordinary words like replace or change-me are values', () => {
    expectConfig(
      loadConfig(
        { ...PRODUCTION, GATEWAY_STREAMS: 'replace=change-me:1', JWT_ISSUER: 'https://replace.me' },
        filesFrom({}),
      ),
    );
  });
});

describe('loadConfig: dis.allow_insecure_http', () => {
  const http = { ...PRODUCTION, DIS_ENDPOINT: 'http://emulator:8090', DIS_REGION: 'cn-north-4' };

  it('when production points at plain http off the host without the flag, it is refused', () => {
    assert.deepEqual(expectProblems(loadConfig(http, filesFrom({}))), [
      'DIS_ENDPOINT / dis.endpoint: must be an https URL in production (http only to a loopback address, or with DIS_ALLOW_INSECURE_HTTP=true / dis.allow_insecure_http)',
    ]);
  });

  it('with DIS_ALLOW_INSECURE_HTTP=true it loads, keeps the flag in the config and warns once', () => {
    const result = loadConfig({ ...http, DIS_ALLOW_INSECURE_HTTP: 'true' }, filesFrom({}));

    const config = expectConfig(result);
    assert.ok(result.ok);
    assert.equal(config.dis.mode === 'remote' && config.dis.allowInsecureHttp, true);
    assert.equal(
      result.warnings.filter((warning) => warning.includes('DIS_ALLOW_INSECURE_HTTP')).length,
      1,
    );
  });

  it('with dis.allow_insecure_http: true in the file it loads too; false in the env overrides it', () => {
    const files = filesFrom({ '/c.yaml': 'dis:\n  allow_insecure_http: true\n' });
    expectConfig(loadConfig({ ...http, GATEWAY_CONFIG: '/c.yaml' }, files));

    const problems = expectProblems(
      loadConfig({ ...http, GATEWAY_CONFIG: '/c.yaml', DIS_ALLOW_INSECURE_HTTP: 'false' }, files),
    );
    assert.match(problems.join('\n'), /must be an https URL in production/);
  });

  it('when DIS_ALLOW_INSECURE_HTTP is neither true nor false, it says so', () => {
    assert.deepEqual(
      expectProblems(loadConfig({ ...http, DIS_ALLOW_INSECURE_HTTP: 'yes' }, filesFrom({}))),
      [
        'DIS_ALLOW_INSECURE_HTTP: must be true or false, got "yes"',
        'DIS_ENDPOINT / dis.endpoint: must be an https URL in production (http only to a loopback address, or with DIS_ALLOW_INSECURE_HTTP=true / dis.allow_insecure_http)',
      ],
    );
  });

  it('with the flag, an https endpoint gets no warning', () => {
    const result = loadConfig({ ...PRODUCTION, DIS_ALLOW_INSECURE_HTTP: 'true' }, filesFrom({}));
    assert.ok(result.ok);
    assert.deepEqual(result.warnings, []);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load-config.ts';
import { expectConfig, expectProblems, filesFrom } from '../helpers/config-results.ts';

const PROJECT_ID = '0123456789abcdef0123456789abcdef';

// design.md §10's example, with a real project id.
const DESIGN_EXAMPLE = `
server:   { port: 8080, trust_proxy: 1, body_limit_bytes: 5242880, keep_alive_timeout_ms: 65000,
            shutdown_delay_ms: 5000, shutdown_timeout_ms: 25000 }
dis:      { endpoint: "https://dis.cn-north-4.myhuaweicloud.com", region: cn-north-4, project_id: "${PROJECT_ID}",
            auth: { type: aksk, ak_env: DIS_AK, sk_env: DIS_SK },
            max_records_per_request: 500, max_bytes_per_request: 4194304, request_timeout_ms: 5000 }
redis:    { url: "redis://127.0.0.1:6379", command_timeout_ms: 50, on_error: fail-open }
auth:
  jwt:    { algorithms: [HS256], issuer: "https://auth.internal", audience: dis-gateway,
            secret_env: JWT_SECRET, principal_claim: sub, scope_claim: scope, clock_tolerance_s: 30 }
streams:
  clicks:    { dis_stream: dis-clicks, partitions: 2, type: COMMON, partition_key_pointer: /user_id }
  gh-events: { dis_stream: dis-gh-events, partitions: 1 }
limits:
  default:    { requests_per_s: 100, burst: 200, records_per_s: 5000, bytes_per_s: 5242880 }
  principals: { svc-orders: { requests_per_s: 1000, burst: 2000 } }
webhooks:
  sources:
    github-main: { profile: github, secrets_env: [GITHUB_WEBHOOK_SECRET], stream: gh-events, mode: async,
                   tolerance_s: 300, max_body_bytes: 1048576 }
`;

const EXAMPLE_SECRETS = {
  DIS_AK: 'AKEXAMPLE0000001',
  DIS_SK: 'sk-example-secret-value',
  JWT_SECRET: 'jwt-secret-that-is-long-enough-0123456789',
  GITHUB_WEBHOOK_SECRET: 'github-webhook-secret',
};

describe('loadConfig: files, defaults and overrides', () => {
  it('when nothing is set outside production, it runs embedded DIS, a memory store and a dev JWT', () => {
    const result = loadConfig({}, filesFrom({}));
    const config = expectConfig(result);
    assert.equal(config.production, false);
    assert.deepEqual(config.dis, { mode: 'embedded' });
    assert.deepEqual(config.redis, { mode: 'memory' });
    assert.equal(config.auth.jwt.dev, true);
    assert.deepEqual(config.auth.jwt.algorithms, ['HS256']);
    assert.deepEqual(config.auth.jwt.secrets, []);
    assert.deepEqual(Object.keys(config.streams), ['events']);
    assert.ok(result.ok && result.warnings.some((w) => w.includes('in-memory store')));
  });

  it('when nothing overrides them, every default of design.md §10 and the brief applies', () => {
    const config = expectConfig(loadConfig({}, filesFrom({})));
    assert.deepEqual(config.server, {
      host: '0.0.0.0',
      port: 8080,
      trustProxy: 0,
      bodyLimitBytes: 5 * 1024 * 1024,
      keepAliveTimeoutMs: 65_000,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      connectionsCheckIntervalMs: 1_000,
      shutdownDelayMs: 5_000,
      shutdownTimeoutMs: 25_000,
      defaultWaitMs: 10_000,
      maxWaitMs: 25_000,
    });
    assert.deepEqual(config.log, { level: 'info' });
    assert.deepEqual(config.limits, {
      default: { requestsPerS: 100, burst: 200, recordsPerS: 5_000, bytesPerS: 5 * 1024 * 1024 },
      principals: {},
      maxRecordsPerRequest: 500,
      maxRecordBytes: 1024 * 1024,
      maxJsonDepth: 64,
    });
    assert.deepEqual(config.idempotency, { ttlS: 86_400 });
    const { jwt } = config.auth;
    assert.equal(jwt.clockToleranceS, 30);
    assert.equal(jwt.jwksRefreshIntervalMs, 60_000);
    assert.equal(jwt.principalClaim, 'sub');
    assert.equal(jwt.scopeClaim, 'scope');
  });

  it("design.md §10's example file loads in production with its secrets in the environment", () => {
    const config = expectConfig(
      loadConfig(
        { NODE_ENV: 'production', GATEWAY_CONFIG: '/etc/gw/config.yaml', ...EXAMPLE_SECRETS },
        filesFrom({ '/etc/gw/config.yaml': DESIGN_EXAMPLE }),
      ),
    );
    assert.equal(config.production, true);
    assert.deepEqual(config.dis, {
      mode: 'remote',
      endpoint: 'https://dis.cn-north-4.myhuaweicloud.com',
      region: 'cn-north-4',
      projectId: PROJECT_ID,
      auth: { type: 'aksk', ak: EXAMPLE_SECRETS.DIS_AK, sk: EXAMPLE_SECRETS.DIS_SK },
      allowInsecureHttp: false,
      maxRecordsPerRequest: 500,
      maxBytesPerRequest: 4 * 1024 * 1024,
      maxConcurrentRequests: 4,
      maxIsolationRequests: 32,
      requestTimeoutMs: 5_000,
      connectTimeoutMs: 2_000,
      breaker: { failureThreshold: 3, coolDownMs: 60_000 },
    });
    assert.deepEqual(config.redis, {
      mode: 'standalone',
      url: 'redis://127.0.0.1:6379',
      commandTimeoutMs: 50,
      connectTimeoutMs: 1_000,
      onError: 'fail-open',
    });
    assert.deepEqual(config.auth.jwt.secrets, [EXAMPLE_SECRETS.JWT_SECRET]);
    assert.deepEqual(config.auth.jwt.issuer, ['https://auth.internal']);
    assert.deepEqual(config.auth.jwt.audience, ['dis-gateway']);
    assert.equal(config.auth.jwt.dev, false);
    assert.equal(config.server.trustProxy, 1);
    assert.deepEqual(config.streams.clicks, {
      disStream: 'dis-clicks',
      partitions: 2,
      type: 'COMMON',
      partitionKeyPointer: '/user_id',
      ordering: 'none',
      disTarget: 'dis',
    });
    assert.deepEqual(config.limits.principals, {
      'svc-orders': { requestsPerS: 1000, burst: 2000 },
    });
    assert.deepEqual(config.webhooks.sources['github-main'], {
      profile: 'github',
      secrets: [EXAMPLE_SECRETS.GITHUB_WEBHOOK_SECRET],
      stream: 'gh-events',
      mode: 'async',
      toleranceS: 300,
      maxBodyBytes: 1024 * 1024,
      replayOnRedisDown: 'reject',
    });
  });

  it('when the example file is used in production without its secrets, each named variable is reported once', () => {
    const problems = expectProblems(
      loadConfig(
        { NODE_ENV: 'production', GATEWAY_CONFIG: '/etc/gw/config.yaml' },
        filesFrom({ '/etc/gw/config.yaml': DESIGN_EXAMPLE }),
      ),
    );
    assert.deepEqual(problems, [
      'missing DIS access key (AK): set DIS_AK or DIS_AK_FILE, or dis.auth.ak_env or dis.auth.ak_file in the config file',
      'missing DIS secret key (SK): set DIS_SK or DIS_SK_FILE, or dis.auth.sk_env or dis.auth.sk_file in the config file',
      'auth.jwt.secret_env names JWT_SECRET, which is not set (nor JWT_SECRET_FILE)',
      'webhooks.sources.github-main.secrets_env[0] names GITHUB_WEBHOOK_SECRET, which is not set (nor GITHUB_WEBHOOK_SECRET_FILE)',
    ]);
  });

  it('when the example file is used in development without JWT_SECRET, a dev secret is used with a warning', () => {
    const { DIS_AK, DIS_SK, GITHUB_WEBHOOK_SECRET } = EXAMPLE_SECRETS;
    const result = loadConfig(
      { GATEWAY_CONFIG: '/etc/gw/config.yaml', DIS_AK, DIS_SK, GITHUB_WEBHOOK_SECRET },
      filesFrom({ '/etc/gw/config.yaml': DESIGN_EXAMPLE }),
    );
    const config = expectConfig(result);
    assert.equal(config.auth.jwt.dev, true);
    assert.deepEqual(
      config.auth.jwt.issuer,
      ['https://auth.internal'],
      'configured claims still apply',
    );
    assert.ok(
      result.ok &&
        result.warnings.includes(
          'auth.jwt.secret_env names JWT_SECRET, which is not set (nor JWT_SECRET_FILE); using a generated dev secret instead',
        ),
    );
  });

  it('when the same settings come as JSON, the result equals the YAML one', () => {
    const json = JSON.stringify({
      server: { port: 9000, trust_proxy: ['10.0.0.0/8', '127.0.0.1'] },
      streams: { orders: { dis_stream: 'dis-orders', partitions: 3, type: 'ADVANCED' } },
      idempotency: { ttl_s: 3600 },
    });
    const yaml = `server: { port: 9000, trust_proxy: "10.0.0.0/8, 127.0.0.1" }
streams:
  orders: { dis_stream: dis-orders, partitions: 3, type: ADVANCED }
idempotency: { ttl_s: 3600 }
`;
    const files = filesFrom({ '/c.json': json, '/c.yml': yaml, '/c-no-extension': json });
    const fromJson = expectConfig(loadConfig({ GATEWAY_CONFIG: '/c.json' }, files));
    const fromYaml = expectConfig(loadConfig({ GATEWAY_CONFIG: '/c.yml' }, files));
    const sniffed = expectConfig(loadConfig({ GATEWAY_CONFIG: '/c-no-extension' }, files));
    assert.deepEqual(fromJson, fromYaml);
    assert.deepEqual(sniffed, fromJson);
    assert.deepEqual(fromJson.server.trustProxy, ['10.0.0.0/8', '127.0.0.1']);
    assert.deepEqual(fromJson.streams.orders, {
      disStream: 'dis-orders',
      partitions: 3,
      type: 'ADVANCED',
      ordering: 'none',
      disTarget: 'dis',
    });
    assert.equal(fromJson.idempotency.ttlS, 3600);
  });

  it('when env vars and the file disagree, the env vars win', () => {
    const file = `
server: { host: 127.0.0.1, port: 1000, shutdown_delay_ms: 1, shutdown_timeout_ms: 2 }
log: { level: warn }
dis: { endpoint: "https://dis.cn-north-4.myhuaweicloud.com", project_id: "${PROJECT_ID}" }
redis: { sentinels: [{ host: s1 }], name: mymaster }
auth: { jwt: { issuer: file-issuer, audience: [a, b], algorithms: [HS512], secret_env: FILE_JWT } }
streams:
  clicks: { dis_stream: file-clicks, partitions: 9, partition_key_pointer: /k }
  kept: { dis_stream: file-kept, partitions: 1 }
`;
    const result = loadConfig(
      {
        GATEWAY_CONFIG: '/c.yaml',
        HOST: '::',
        PORT: '0',
        LOG_LEVEL: 'debug',
        SHUTDOWN_DELAY_MS: '100',
        SHUTDOWN_TIMEOUT_MS: '200',
        DIS_ENDPOINT: 'https://dis.ap-southeast-1.myhuaweicloud.com/',
        DIS_AK: 'AKFROMENV0001',
        DIS_SK: 'sk-from-env',
        REDIS_URL: 'redis://:pw@redis.internal:6380/2',
        JWT_ISSUER: 'env-issuer-1, env-issuer-2',
        JWT_AUDIENCE: 'env-aud',
        JWT_ALGORITHMS: 'HS256,HS384',
        JWT_SECRET: 'env-secret-one-0123456789abcdefghij,env-secret-two-0123456789abcdefghij',
        GATEWAY_STREAMS: 'clicks=dis-clicks:2,orders=dis-orders:1:ADVANCED',
      },
      filesFrom({ '/c.yaml': file }),
    );
    const config = expectConfig(result);
    assert.equal(config.server.host, '::');
    assert.equal(config.server.port, 0);
    assert.equal(config.server.shutdownDelayMs, 100);
    assert.equal(config.server.shutdownTimeoutMs, 200);
    assert.equal(config.log.level, 'debug');
    assert.ok(config.dis.mode === 'remote');
    assert.equal(config.dis.endpoint, 'https://dis.ap-southeast-1.myhuaweicloud.com');
    assert.equal(config.dis.region, 'ap-southeast-1', 'derived from the endpoint host');
    assert.deepEqual(config.redis, {
      mode: 'standalone',
      url: 'redis://:pw@redis.internal:6380/2',
      commandTimeoutMs: 50,
      connectTimeoutMs: 1000,
      onError: 'fail-open',
    });
    assert.ok(result.ok && result.warnings.some((w) => w.includes('redis.sentinels')));
    assert.deepEqual(config.auth.jwt.issuer, ['env-issuer-1', 'env-issuer-2']);
    assert.deepEqual(config.auth.jwt.audience, ['env-aud']);
    assert.deepEqual(config.auth.jwt.algorithms, ['HS256', 'HS384']);
    assert.deepEqual(config.auth.jwt.secrets, [
      'env-secret-one-0123456789abcdefghij',
      'env-secret-two-0123456789abcdefghij',
    ]);
    // GATEWAY_STREAMS replaces whole entries and leaves the file's other streams alone.
    assert.deepEqual(config.streams, {
      clicks: {
        disStream: 'dis-clicks',
        partitions: 2,
        type: 'COMMON',
        ordering: 'none',
        disTarget: 'dis',
      },
      kept: {
        disStream: 'file-kept',
        partitions: 1,
        type: 'COMMON',
        ordering: 'none',
        disTarget: 'dis',
      },
      orders: {
        disStream: 'dis-orders',
        partitions: 1,
        type: 'ADVANCED',
        ordering: 'none',
        disTarget: 'dis',
      },
    });
  });

  it('when DIS_AUTH=token, the IAM settings replace AK/SK', () => {
    const config = expectConfig(
      loadConfig(
        {
          DIS_ENDPOINT: 'http://127.0.0.1:8090',
          DIS_REGION: 'cn-north-4',
          DIS_PROJECT_ID: PROJECT_ID,
          DIS_AUTH: 'token',
          IAM_ENDPOINT: 'http://127.0.0.1:8091',
          IAM_USER: 'svc-user',
          IAM_PASSWORD: 'iam-password-value',
          IAM_DOMAIN: 'acme',
        },
        filesFrom({}),
      ),
    );
    assert.ok(config.dis.mode === 'remote');
    assert.deepEqual(config.dis.auth, {
      type: 'token',
      iamEndpoint: 'http://127.0.0.1:8091',
      user: 'svc-user',
      password: 'iam-password-value',
      domain: 'acme',
    });
  });

  it('when the file is missing, unparsable or not a mapping, the problem names the file and stops there', () => {
    const files = filesFrom({
      '/bad.json': '{"server": {"port": 1,}}',
      '/list.yaml': '- 1\n- 2\n',
    });
    assert.deepEqual(expectProblems(loadConfig({ GATEWAY_CONFIG: '/nope.yaml' }, files)), [
      'GATEWAY_CONFIG: cannot read /nope.yaml (ENOENT)',
    ]);
    const [json] = expectProblems(loadConfig({ GATEWAY_CONFIG: '/bad.json' }, files));
    assert.match(
      json ?? '',
      /^GATEWAY_CONFIG file \/bad\.json: invalid JSON at line 1 column \d+$/,
    );
    assert.deepEqual(expectProblems(loadConfig({ GATEWAY_CONFIG: '/list.yaml' }, files)), [
      'GATEWAY_CONFIG file /list.yaml: the top level must be a mapping',
    ]);
  });

  it('when a YAML file has a duplicate key, it is reported with its line', () => {
    const files = filesFrom({ '/dup.yaml': 'server:\n  port: 1\n  port: 2\n' });
    const problems = expectProblems(loadConfig({ GATEWAY_CONFIG: '/dup.yaml' }, files));
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /invalid YAML at line 3 column 3: Map keys must be unique/);
  });
});

describe('loadConfig: webhook timing defaults', () => {
  const yaml = (webhooks: string) => `
streams: { s: { dis_stream: dis-s, partitions: 1 } }
webhooks:
  ${webhooks}
  sources:
    short: { profile: github, secret_env: W, stream: s, tolerance_s: 60 }
    long: { profile: github, secret_env: W, stream: s, tolerance_s: 900 }
`;
  const load = (text: string, env: Readonly<Record<string, string>> = {}) =>
    loadConfig({ GATEWAY_CONFIG: '/c.yaml', W: 'w', ...env }, filesFrom({ '/c.yaml': text }));

  it('when they are not set, the sync wait is the default wait capped at 5 s and the replay TTL outlasts the widest tolerance', () => {
    const config = expectConfig(load(yaml('')));
    assert.equal(config.webhooks.syncWaitMs, 5_000);
    assert.equal(config.webhooks.replayTtlS, 1_801);
    const quick = expectConfig(loadConfig({}, filesFrom({})));
    assert.equal(quick.webhooks.replayTtlS, 601, 'without sources, the default tolerance counts');
    const shortWait = expectConfig(
      loadConfig(
        { GATEWAY_CONFIG: '/c.yaml' },
        filesFrom({ '/c.yaml': 'server: { default_wait_ms: 2000 }' }),
      ),
    );
    assert.equal(shortWait.webhooks.syncWaitMs, 2_000);
  });

  it('when they are set, they are used, and a replay TTL shorter than the widest window or a sync wait above the cap of Prefer: wait is refused', () => {
    const config = expectConfig(load(yaml('sync_wait_ms: 8000\n  replay_ttl_s: 3600')));
    assert.equal(config.webhooks.syncWaitMs, 8_000);
    assert.equal(config.webhooks.replayTtlS, 3_600);
    assert.deepEqual(expectProblems(load(yaml('sync_wait_ms: 30000\n  replay_ttl_s: 1800'))), [
      'webhooks.replay_ttl_s: must be at least 1801 (2 × the widest tolerance_s + 1, at least 600), or a replayed delivery could pass once its id is forgotten',
      'webhooks.sync_wait_ms: must not exceed server.max_wait_ms',
    ]);
  });
});

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load-config.ts';
import { expectConfig, expectProblems, filesFrom } from '../helpers/config-results.ts';

const PROJECT_ID = 'aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb';
const LONG_SECRET = 'a-jwt-secret-long-enough-for-hs256-0123456789';

/** Problems of a dev-mode load of one YAML file (plus env). */
function problemsOf(yaml: string, env: Readonly<Record<string, string>> = {}): string[] {
  return expectProblems(
    loadConfig({ GATEWAY_CONFIG: '/c.yaml', ...env }, filesFrom({ '/c.yaml': yaml })),
  );
}

describe('loadConfig: production requirements', () => {
  it('when nothing is set in production, every missing DIS, JWT, Redis and stream setting is listed at once', () => {
    assert.deepEqual(expectProblems(loadConfig({ NODE_ENV: 'production' }, filesFrom({}))), [
      'missing DIS endpoint: set DIS_ENDPOINT, or dis.endpoint in the config file',
      'missing DIS project id: set DIS_PROJECT_ID, or dis.project_id in the config file',
      'missing DIS access key (AK): set DIS_AK or DIS_AK_FILE, or dis.auth.ak_env or dis.auth.ak_file in the config file',
      'missing DIS secret key (SK): set DIS_SK or DIS_SK_FILE, or dis.auth.sk_env or dis.auth.sk_file in the config file',
      'missing Redis: set REDIS_URL, or redis.url or redis.sentinels or redis.nodes in the config file',
      'missing JWT verification key: set JWT_SECRET or JWT_SECRET_FILE or JWT_PUBLIC_KEY_FILE or JWKS_URL, or auth.jwt.secret_env or auth.jwt.secrets_env or auth.jwt.secret_file or auth.jwt.secret_files or auth.jwt.public_keys or auth.jwt.jwks_url in the config file',
      'missing JWT issuer: set JWT_ISSUER, or auth.jwt.issuer in the config file',
      'missing JWT audience: set JWT_AUDIENCE, or auth.jwt.audience in the config file',
      'missing JWT algorithms: set JWT_ALGORITHMS, or auth.jwt.algorithms in the config file',
      'missing streams: set GATEWAY_STREAMS, or streams in the config file',
    ]);
  });

  it('when production uses IAM token mode with nothing else, each IAM setting is listed', () => {
    const problems = expectProblems(
      loadConfig(
        {
          NODE_ENV: 'production',
          DIS_AUTH: 'token',
          DIS_ENDPOINT: 'https://dis.cn-north-4.myhuaweicloud.com',
          DIS_PROJECT_ID: PROJECT_ID,
          REDIS_URL: 'redis://127.0.0.1:6379',
          JWKS_URL: 'https://auth.internal/.well-known/jwks.json',
          JWT_ISSUER: 'iss',
          JWT_AUDIENCE: 'aud',
          JWT_ALGORITHMS: 'RS256',
          GATEWAY_STREAMS: 'clicks=dis-clicks:1',
        },
        filesFrom({}),
      ),
    );
    assert.deepEqual(problems, [
      'missing IAM endpoint (DIS_AUTH=token): set IAM_ENDPOINT, or dis.auth.iam_endpoint in the config file',
      'missing IAM user (DIS_AUTH=token): set IAM_USER, or dis.auth.user in the config file',
      'missing IAM domain (DIS_AUTH=token): set IAM_DOMAIN, or dis.auth.domain in the config file',
      'missing IAM password (DIS_AUTH=token): set IAM_PASSWORD or IAM_PASSWORD_FILE, or dis.auth.password_env or dis.auth.password_file in the config file',
    ]);
  });

  it('when production points at plain http or a non-Huawei host without a region, it says so', () => {
    const problems = expectProblems(
      loadConfig(
        {
          NODE_ENV: 'production',
          DIS_ENDPOINT: 'http://dis.example.test',
          DIS_PROJECT_ID: PROJECT_ID,
          DIS_AK: 'AK0000000001',
          DIS_SK: 'sk',
          REDIS_URL: 'redis://127.0.0.1:6379',
          JWT_SECRET: 'short',
          JWT_ISSUER: 'iss',
          JWT_AUDIENCE: 'aud',
          JWT_ALGORITHMS: 'HS256',
          GATEWAY_STREAMS: 'clicks=dis-clicks:1',
        },
        filesFrom({}),
      ),
    );
    assert.deepEqual(problems, [
      'DIS_ENDPOINT / dis.endpoint: must be an https URL in production (http only to a loopback address, or with DIS_ALLOW_INSECURE_HTTP=true / dis.allow_insecure_http)',
      'missing DIS region: set DIS_REGION, or dis.region in the config file (the endpoint host is not dis.<region>.myhuaweicloud.com)',
      '1 JWT secret(s) shorter than 32 bytes',
    ]);
  });
});

describe('loadConfig: values and cross-field checks', () => {
  it('when GATEWAY_STREAMS has bad entries, each is reported and the good ones are kept', () => {
    const bad =
      'ok=dis-ok:2, nopartitions=dis-x, two=a:1:COMMON:extra, bad!=x:1, z=bad name:1, p=x:0, t=x:1:FAST, ok=again:1';
    assert.deepEqual(expectProblems(loadConfig({ GATEWAY_STREAMS: bad }, filesFrom({}))), [
      'GATEWAY_STREAMS entry "nopartitions=dis-x": expected logical=dis_stream:partitions[:type]',
      'GATEWAY_STREAMS entry "two=a:1:COMMON:extra": expected logical=dis_stream:partitions[:type]',
      'GATEWAY_STREAMS entry "bad!=x:1": logical name must match [A-Za-z0-9_-]{1,64}',
      'GATEWAY_STREAMS entry "z=bad name:1": DIS stream name must match [A-Za-z0-9_-]{1,64}',
      'GATEWAY_STREAMS entry "p=x:0": partitions must be a whole number 1..1000',
      'GATEWAY_STREAMS entry "t=x:1:FAST": type must be COMMON or ADVANCED',
      'GATEWAY_STREAMS entry "ok=again:1": ok is listed twice',
    ]);
    const config = expectConfig(
      loadConfig({ GATEWAY_STREAMS: ' a=dis-a:3 , b=dis-b:1:advanced ,' }, filesFrom({})),
    );
    assert.deepEqual(config.streams, {
      a: { disStream: 'dis-a', partitions: 3, type: 'COMMON', ordering: 'none', disTarget: 'dis' },
      b: {
        disStream: 'dis-b',
        partitions: 1,
        type: 'ADVANCED',
        ordering: 'none',
        disTarget: 'dis',
      },
    });
  });

  it('when trust_proxy is true (file or env), it is rejected; hop counts and CIDR lists pass', () => {
    const message =
      'true is not allowed (it trusts any X-Forwarded-For); give a hop count or a CIDR list';
    assert.deepEqual(problemsOf('server: { trust_proxy: true }'), [
      `server.trust_proxy: ${message}`,
    ]);
    assert.deepEqual(problemsOf('{}', { TRUST_PROXY: 'true' }), [
      `TRUST_PROXY (server.trust_proxy): ${message}`,
    ]);
    assert.deepEqual(problemsOf('server: { trust_proxy: [10.0.0.0/33, "*"] }'), [
      'server.trust_proxy: must be a hop count or IPs/CIDRs (or loopback, linklocal, uniquelocal); bad: 10.0.0.0/33, *',
    ]);
    const config = expectConfig(
      loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8, ::1' }, filesFrom({})),
    );
    assert.deepEqual(config.server.trustProxy, ['loopback', '10.0.0.0/8', '::1']);
    assert.equal(
      expectConfig(loadConfig({ TRUST_PROXY: '2' }, filesFrom({}))).server.trustProxy,
      2,
    );
  });

  it('when the clock tolerance is 61 s it is rejected, and 60 s is accepted', () => {
    assert.deepEqual(problemsOf('auth: { jwt: { clock_tolerance_s: 61 } }'), [
      'auth.jwt.clock_tolerance_s: must be at most 60',
    ]);
    const config = expectConfig(
      loadConfig(
        { GATEWAY_CONFIG: '/c.yaml' },
        filesFrom({ '/c.yaml': 'auth: { jwt: { clock_tolerance_s: 60 } }' }),
      ),
    );
    assert.equal(config.auth.jwt.clockToleranceS, 60);
  });

  it('when sections have typos, wrong types and bad limits, every one is reported with its path', () => {
    const yaml = `
server: { port: 70000, prot: 1, headers_timeout_ms: 1000, keep_alive_timeout_ms: 2000 }
dis: { max_bytes_per_request: 6000000, max_records_per_request: 1001, breaker: { failure_threshold: 5 } }
streams:
  clicks: { dis_stream: dis-clicks, partitions: "2", partition_key_pointer: user_id }
  orders: { partitions: 1 }
limits: { max_record_bytes: 2000000 }
redis: { on_error: maybe }
nonsense: 1
`;
    assert.deepEqual(problemsOf(yaml, { LOG_LEVEL: 'loud', PORT: '1e3' }), [
      'PORT: must be a whole number, got "1e3"',
      'nonsense: unknown section (expected server, log, dis, redis, auth, streams, limits, idempotency, webhooks, spool, ingest, frontdoor)',
      'server.port: must be at most 65535',
      'server.prot: unknown key',
      'LOG_LEVEL (log.level): must be one of fatal, error, warn, info, debug, trace, silent',
      'dis.max_records_per_request: must be at most 1000',
      'dis.max_bytes_per_request: must be at most 5242880',
      'dis.breaker.failure_threshold: must be at most 4',
      'redis.on_error: must be fail-open or fail-closed',
      'streams.clicks.partitions: must be an integer',
      'streams.clicks.partition_key_pointer: must be an RFC 6901 JSON pointer like /user_id',
      'streams.orders.dis_stream: is required',
      'limits.max_record_bytes: must be at most 1048576',
    ]);
  });

  it('when timings contradict each other, each pair is reported', () => {
    const yaml = `server: { headers_timeout_ms: 20000, default_wait_ms: 20000,
  max_wait_ms: 15000, request_timeout_ms: 15000 }`;
    assert.deepEqual(
      problemsOf(yaml, { SHUTDOWN_DELAY_MS: '30000', SHUTDOWN_TIMEOUT_MS: '25000' }),
      [
        'server.headers_timeout_ms: must not exceed server.request_timeout_ms (Node refuses a headers timeout longer than the whole request’s)',
        'server.default_wait_ms: must not exceed server.max_wait_ms',
        'SHUTDOWN_DELAY_MS / server.shutdown_delay_ms: must be below SHUTDOWN_TIMEOUT_MS / server.shutdown_timeout_ms',
      ],
    );
  });

  it('the server timeouts Node accepts load: headers within the request timeout, either one 0 (off), keep-alive above both, a wait above the request timeout', () => {
    for (const server of [
      '{ keep_alive_timeout_ms: 65000, headers_timeout_ms: 10000, request_timeout_ms: 10000 }',
      '{ headers_timeout_ms: 0, request_timeout_ms: 5000 }',
      '{ headers_timeout_ms: 60000, request_timeout_ms: 0 }',
      // The request timeout ends when the body is in: it does not bound the wait for DIS.
      '{ headers_timeout_ms: 5000, request_timeout_ms: 5000, max_wait_ms: 25000 }',
    ]) {
      const config = expectConfig(
        loadConfig({ GATEWAY_CONFIG: '/c.yaml' }, filesFrom({ '/c.yaml': `server: ${server}` })),
      );
      assert.equal(config.server.connectionsCheckIntervalMs, 1000, server);
    }
  });

  it('when the connections check interval is 0 or over a minute, it is refused', () => {
    assert.deepEqual(problemsOf('server: { connections_check_interval_ms: 0 }'), [
      'server.connections_check_interval_ms: must be at least 1',
    ]);
    assert.deepEqual(problemsOf('server: { connections_check_interval_ms: 60001 }'), [
      'server.connections_check_interval_ms: must be at most 60000',
    ]);
  });

  it('when webhook sources name unknown streams or miss their hmac block, each is reported', () => {
    const yaml = `
streams: { s: { dis_stream: dis-s, partitions: 1 } }
webhooks:
  sources:
    a: { profile: github, secret_env: A, stream: missing }
    b: { profile: hmac, secret_env: A, stream: s }
    c: { profile: github, secret_env: A, stream: s, hmac: { header: X-Sig } }
    d: { profile: hmac, secret_env: A, stream: s,
         hmac: { header: X-Sig, signed_content: "{timestamp}:{id}" } }
    e: { profile: standard-webhooks, secret_env: A, stream: s }
    f: { profile: stripe, stream: s }
`;
    assert.deepEqual(problemsOf(yaml, { A: 'not base64!' }), [
      'webhooks.sources.a.stream: "missing" is not a key of streams',
      'webhooks.sources.b.hmac: required for profile hmac (header, algorithm, encoding)',
      'webhooks.sources.c.hmac: only for profile hmac',
      'webhooks.sources.d.hmac.signed_content: only {timestamp} and {body} may be used',
      'webhooks.sources.d.hmac.signed_content: must contain {body}',
      'webhooks.sources.d.hmac.signed_content: uses {timestamp}, so hmac.timestamp_header is required',
      'webhooks.sources.e: 1 secret(s) are not whsec_ + Base64',
      'webhooks.sources.f: needs at least one secret (secret_env, secrets_env, secret_file or secret_files)',
    ]);
  });

  it('when an hmac source is complete, its block and defaults come through', () => {
    const yaml = `
streams: { s: { dis_stream: dis-s, partitions: 1 } }
webhooks:
  sources:
    vendor: { profile: hmac, secrets_env: [V1, V2], stream: s, mode: sync, delivery_id_pointer: /id,
              hmac: { header: X-Vendor-Signature, prefix: "sha512=", algorithm: sha512, encoding: base64,
                      timestamp_header: X-Vendor-Time, signed_content: "{timestamp}.{body}" } }
`;
    const config = expectConfig(
      loadConfig(
        { GATEWAY_CONFIG: '/c.yaml', V1: 'one', V2: 'two' },
        filesFrom({ '/c.yaml': yaml }),
      ),
    );
    assert.deepEqual(config.webhooks.sources.vendor, {
      profile: 'hmac',
      secrets: ['one', 'two'],
      stream: 's',
      mode: 'sync',
      toleranceS: 300,
      maxBodyBytes: 1024 * 1024,
      deliveryIdPointer: '/id',
      replayOnRedisDown: 'reject',
      hmac: {
        header: 'X-Vendor-Signature',
        algorithm: 'sha512',
        encoding: 'base64',
        prefix: 'sha512=',
        timestampHeader: 'X-Vendor-Time',
        signedContent: '{timestamp}.{body}',
      },
    });
  });

  it('when redis shapes are mixed or incomplete, it says which', () => {
    assert.deepEqual(problemsOf('redis: { url: "redis://a:6379", nodes: [{ host: b }] }'), [
      'redis: give only one of redis.url, redis.nodes',
    ]);
    assert.deepEqual(problemsOf('redis: { sentinels: [{ host: a }] }'), [
      'redis.name: required with redis.sentinels (the monitored master name)',
    ]);
    assert.deepEqual(problemsOf('redis: { url: "http://a" }'), [
      'redis.url: must be a redis:// or rediss:// URL',
    ]);
    const config = expectConfig(
      loadConfig(
        { GATEWAY_CONFIG: '/c.yaml' },
        filesFrom({
          '/c.yaml':
            'redis: { nodes: [{ host: n1 }, { host: n2, port: 7001 }], on_error: fail-closed }',
        }),
      ),
    );
    assert.deepEqual(config.redis, {
      mode: 'cluster',
      nodes: [
        { host: 'n1', port: 6379 },
        { host: 'n2', port: 7001 },
      ],
      commandTimeoutMs: 50,
      connectTimeoutMs: 1000,
      onError: 'fail-closed',
    });
  });
});

describe('loadConfig: JWT algorithms and keys', () => {
  it('when "none" or an unknown algorithm is allowed, it is rejected', () => {
    assert.deepEqual(
      expectProblems(
        loadConfig({ JWT_SECRET: LONG_SECRET, JWT_ALGORITHMS: 'HS256,None,HS257' }, filesFrom({})),
      ),
      [
        'JWT_ALGORITHMS / auth.jwt.algorithms: "none" is never allowed',
        'JWT_ALGORITHMS / auth.jwt.algorithms: unknown algorithm "HS257"; use HS256, HS384, HS512, RS256, RS384, RS512, ES256, ES384, ES512, PS256, PS384, PS512',
      ],
    );
  });

  it('when algorithms and keys do not fit each other, each mismatch is reported', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    assert.deepEqual(
      expectProblems(
        loadConfig(
          { JWT_PUBLIC_KEY_FILE: '/k.pem', JWT_ALGORITHMS: 'HS256,RS256,ES256' },
          filesFrom({ '/k.pem': pem }),
        ),
      ),
      [
        'auth.jwt.algorithms: HS256 needs a secret (JWT_SECRET or auth.jwt.secret_env)',
        'auth.jwt.algorithms: ES256 needs a fitting public key (JWT_PUBLIC_KEY_FILE or auth.jwt.public_keys) or a JWKS URL',
      ],
    );
  });

  it('when one PEM file holds two public keys, both are loaded and their algorithms allowed', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey;
    const pem = [rsa, ec]
      .map((key) => key.export({ type: 'spki', format: 'pem' }).toString())
      .join('');
    const result = loadConfig(
      { JWT_PUBLIC_KEY_FILE: '/keys.pem' },
      filesFrom({ '/keys.pem': pem }),
    );
    const config = expectConfig(result);
    assert.equal(config.auth.jwt.publicKeys.length, 2);
    assert.equal(config.auth.jwt.dev, false);
    assert.deepEqual(config.auth.jwt.algorithms, ['RS256', 'ES384']);
    assert.ok(result.ok && result.warnings.some((w) => w.includes('allowing RS256, ES384')));
  });

  it('when public keys in the file have kids, duplicates and garbage are reported', () => {
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    const yaml = `auth:
  jwt:
    algorithms: [ES256]
    public_keys:
      - { kid: k1, pem: ${JSON.stringify(pem)} }
      - { kid: k1, file: /k.pem }
      - { kid: k2, pem: "not a key" }
      - { kid: k3 }
`;
    assert.deepEqual(problemsOf(yaml), [
      'auth.jwt.public_keys[1].file: cannot read /k.pem (ENOENT)',
      'auth.jwt.public_keys[2]: holds no PEM block',
      'auth.jwt.public_keys[3]: give pem (the key itself) or file (its path)',
    ]);
    const duplicates = loadConfig(
      { GATEWAY_CONFIG: '/c.yaml' },
      filesFrom({
        '/c.yaml':
          'auth: { jwt: { algorithms: [ES256], public_keys: [{ kid: k1, file: /a.pem }, { kid: k1, file: /a.pem }] } }',
        '/a.pem': pem,
      }),
    );
    assert.deepEqual(expectProblems(duplicates), ['auth.jwt.public_keys: kid k1 is given twice']);
  });
});

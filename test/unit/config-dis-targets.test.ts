import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load-config.ts';
import { redactConfig } from '../../src/config/redact.ts';
import { expectConfig, expectProblems, filesFrom } from '../helpers/config-results.ts';

const PROJECT_A = '0123456789abcdef0123456789abcdef';
const PROJECT_B = 'fedcba9876543210fedcba9876543210';

const TOP = `
dis: { endpoint: "https://dis.cn-north-4.myhuaweicloud.com", project_id: "${PROJECT_A}",
       auth: { ak_env: A_AK, sk_env: A_SK }, request_timeout_ms: 3000 }
redis: { url: "redis://127.0.0.1:6379" }
auth: { jwt: { algorithms: [HS256], issuer: i, audience: a, secret_env: JWT_SECRET } }
`;

const SECRETS = {
  NODE_ENV: 'production',
  GATEWAY_CONFIG: '/g.yaml',
  A_AK: 'AKAAAAAAAAAAAAAAAAAA',
  A_SK: 'sk-of-project-a-secret',
  B_AK: 'AKBBBBBBBBBBBBBBBBBB',
  B_SK: 'sk-of-project-b-secret',
  JWT_SECRET: 'jwt-secret-that-is-long-enough-0123456789',
};

function load(streams: string, env: Record<string, string> = {}) {
  return loadConfig({ ...SECRETS, ...env }, filesFrom({ '/g.yaml': `${TOP}streams:\n${streams}` }));
}

describe('loadConfig: streams with DIS targets of their own', () => {
  it('when a stream names another project and credentials, it gets a target that inherits the rest', () => {
    const config = expectConfig(
      load(`
  clicks: { dis_stream: dis-clicks, partitions: 1 }
  orders:
    dis_stream: dis-orders
    partitions: 1
    dis: { endpoint: "https://dis.cn-south-1.myhuaweicloud.com", project_id: "${PROJECT_B}",
           auth: { ak_env: B_AK, sk_env: B_SK }, max_records_per_request: 100 }
`),
    );
    assert.equal(config.streams.clicks?.disTarget, 'dis');
    assert.equal(config.streams.orders?.disTarget, 'streams.orders.dis');
    assert.doesNotMatch(JSON.stringify(config.streams), /"dis":/, 'streams name a target instead');
    const target = config.disTargets['streams.orders.dis'];
    assert.ok(target !== undefined);
    assert.equal(target.endpoint, 'https://dis.cn-south-1.myhuaweicloud.com');
    assert.equal(target.region, 'cn-south-1', 'the region comes from its own endpoint');
    assert.equal(target.projectId, PROJECT_B);
    assert.deepEqual(target.auth, { type: 'aksk', ak: SECRETS.B_AK, sk: SECRETS.B_SK });
    assert.equal(target.maxRecordsPerRequest, 100);
    assert.equal(target.requestTimeoutMs, 3000, 'client settings not given come from dis');
    assert.deepEqual(Object.keys(config.disTargets), ['streams.orders.dis']);
  });

  it('when streams name the same endpoint, project and credentials, they share one target', () => {
    const own = `dis: { project_id: "${PROJECT_B}", auth: { ak_env: B_AK, sk_env: B_SK } }`;
    const config = expectConfig(
      load(`
  a: { dis_stream: dis-a, partitions: 1, ${own} }
  b: { dis_stream: dis-b, partitions: 1, ${own} }
  c: { dis_stream: dis-c, partitions: 1, dis: { project_id: "${PROJECT_A}" } }
`),
    );
    assert.equal(config.streams.a?.disTarget, 'streams.a.dis');
    assert.equal(config.streams.b?.disTarget, 'streams.a.dis');
    assert.equal(config.streams.c?.disTarget, 'dis', 'the same as the top-level dis is dis');
    const shared = config.disTargets['streams.a.dis'];
    assert.equal(shared?.endpoint, 'https://dis.cn-north-4.myhuaweicloud.com');
    assert.equal(shared.region, 'cn-north-4', 'the same endpoint keeps dis.region');
    assert.deepEqual(Object.keys(config.disTargets), ['streams.a.dis']);
  });

  it('when two targets hold one DIS stream name, the config is refused with why', () => {
    const problems = expectProblems(
      load(`
  a: { dis_stream: shared, partitions: 1 }
  b: { dis_stream: shared, partitions: 1, dis: { project_id: "${PROJECT_B}" } }
`),
    );
    assert.deepEqual(problems, [
      'streams.b.dis_stream: "shared" is also the DIS stream of streams.a in another DIS target (dis, here streams.b.dis); the spool, the batcher and the metrics know a DIS stream by its name, so one gateway serves a DIS stream name in one target only',
    ]);
  });

  it('when a stream target breaks a production rule, each problem names its keys', () => {
    const problems = expectProblems(
      load(`
  a:
    dis_stream: dis-a
    partitions: 1
    dis: { endpoint: "http://dis.example.internal", project_id: "${PROJECT_B}",
           auth: { type: token, user: u } }
`),
    );
    assert.deepEqual(
      expectProblems(
        load(`  b: { dis_stream: dis-b, partitions: 1, dis: { project_id: "not-a-project" } }
`),
      ),
      ['streams.b.dis.project_id: must be a project id: 32 lowercase hex characters'],
    );
    assert.deepEqual(problems, [
      'streams.a.dis.endpoint: must be an https URL in production (http only to a loopback address, or with streams.a.dis.allow_insecure_http)',
      'streams.a.dis.region: required (the endpoint host is not dis.<region>.myhuaweicloud.com)',
      'missing IAM endpoint (streams.a.dis.auth.type token): set streams.a.dis.auth.iam_endpoint in the config file',
      'missing IAM domain (streams.a.dis.auth.type token): set streams.a.dis.auth.domain in the config file',
      'missing IAM password (streams.a.dis.auth.type token): set streams.a.dis.auth.password_env or streams.a.dis.auth.password_file in the config file',
    ]);
  });

  it('when a stream has its own auth, DIS_AK and DIS_SK do not stand in for it', () => {
    const problems = expectProblems(
      load(
        `  a: { dis_stream: dis-a, partitions: 1, dis: { project_id: "${PROJECT_B}", auth: { type: aksk } } }\n`,
        { DIS_AK: 'AKCCCCCCCCCCCCCCCCCC', DIS_SK: 'sk-conventional' },
      ),
    );
    assert.deepEqual(problems, [
      'missing DIS access key (AK): set streams.a.dis.auth.ak_env or streams.a.dis.auth.ak_file in the config file',
      'missing DIS secret key (SK): set streams.a.dis.auth.sk_env or streams.a.dis.auth.sk_file in the config file',
    ]);
  });

  it('when a stream target holds a placeholder or the same credentials with other settings, it is refused', () => {
    const problems = expectProblems(
      load(`
  a: { dis_stream: dis-a, partitions: 1, dis: { project_id: "${PROJECT_A}", max_records_per_request: 10 } }
`),
    );
    assert.deepEqual(problems, [
      'streams.a.dis: the same DIS endpoint, project and credentials as dis, with other client settings; one client (and one breaker for its credentials) serves them both, so give them the same settings',
    ]);
    const placeholder = expectProblems(
      load(
        `  a: { dis_stream: dis-a, partitions: 1, dis: { auth: { ak_env: B_AK, sk_env: B_SK } } }\n`,
        {
          B_SK: 'REPLACE-ME',
        },
      ),
    );
    assert.deepEqual(placeholder, [
      'B_SK: holds a placeholder (REPLACE… or CHANGE-ME), not a real value',
    ]);
  });

  it('when dis.endpoint is not set in dev mode, a stream target needs its own endpoint and credentials', () => {
    const problems = expectProblems(
      loadConfig(
        { GATEWAY_CONFIG: '/d.yaml' },
        filesFrom({
          '/d.yaml': `streams:\n  a: { dis_stream: dis-a, partitions: 1, dis: { project_id: "${PROJECT_B}" } }\n  b: { dis_stream: dis-b, partitions: 1, dis: { endpoint: "http://127.0.0.1:9", project_id: "${PROJECT_B}" } }\n`,
        }),
      ),
    );
    assert.deepEqual(problems, [
      'streams.a.dis.endpoint: required, since dis.endpoint is not set (streams without a dis of their own then write to the embedded emulator; drop streams.a.dis to do the same)',
      'streams.b.dis.region: required (the endpoint host is not dis.<region>.myhuaweicloud.com)',
      'streams.b.dis.auth: required (the embedded emulator has no credentials to inherit)',
    ]);
  });

  it('when the config is printed, a stream target’s secrets are redacted', () => {
    const config = expectConfig(
      load(
        `  a: { dis_stream: dis-a, partitions: 1, dis: { project_id: "${PROJECT_B}", auth: { ak_env: B_AK, sk_env: B_SK } } }\n`,
      ),
    );
    const printed = JSON.stringify(redactConfig(config));
    assert.equal(printed.includes(SECRETS.B_SK), false);
    assert.equal(printed.includes(SECRETS.B_AK), false);
    assert.match(printed, /"streams\.a\.dis":\{"mode":"remote"/);
  });
});

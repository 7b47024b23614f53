import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { signGithub } from '../../src/webhooks/sign.ts';
import { startGatewayOnRedis, type TestGatewayOnRedis } from '../helpers/gateway.ts';
import {
  matchesName,
  parseMetricsTable,
  parseScrape,
  type DocumentedMetric,
  type MetricFamily,
} from '../helpers/metrics-text.ts';
import { NO_PROMTOOL, findPromtool, runPromtool } from '../helpers/promtool.ts';
import { waitFor } from '../helpers/wait.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const GH_SECRET = 'metrics-contract-secret';

// README's metrics table is the contract operators and deploy/monitoring build on: every family a
// real scrape holds is in it with the same type and label names, and every row is in the scrape.
describe('the metrics README documents are the metrics /metrics exposes', () => {
  let gw: TestGatewayOnRedis;
  let scrape: string;
  let families: Map<string, MetricFamily>;
  const documented = parseMetricsTable(README);

  before(async () => {
    gw = await startGatewayOnRedis({
      streams: [{ name: 'clicks', partitions: 1 }],
      env: { GATEWAY_CONFIG: '/virtual/contract.json', GH_SECRET },
      readFile: () =>
        JSON.stringify({
          webhooks: {
            sources: {
              gh: {
                profile: 'github',
                secrets_env: ['GH_SECRET'],
                stream: 'clicks',
                mode: 'async',
              },
            },
          },
          spool: { block_ms: 100 },
          limits: { principals: { 'svc-frontdoor': { requests_per_s: 1, burst: 1 } } },
        }),
    });
    // Traffic that gives most labelled families a sample, so their label names can be compared.
    const token = gw.token({ scopes: ['dis:write:clicks'] });
    const written = await gw.http
      .post('/v1/streams/clicks/records')
      .set('Authorization', `Bearer ${token}`)
      .set('Content-Type', 'application/json')
      .send('{"records":[{"data":1}]}');
    assert.equal(written.status, 200, written.text);
    await gw.http.post('/v1/streams/clicks/records').send('{}');
    const body = Buffer.from('{"zen":"metrics"}');
    for (const secret of [GH_SECRET, 'wrong']) {
      await gw.postRaw('/v1/webhooks/gh', body, {
        'Content-Type': 'application/json',
        'X-GitHub-Event': 'push',
        'X-GitHub-Delivery': randomUUID(),
        'X-Hub-Signature-256': signGithub({ secret, body }),
      });
    }
    // The DIS front door: a request without credentials, then one over its caller's limit.
    const frontdoor = `/v2/${gw.emulator.projectId}/records`;
    await gw.http.post(frontdoor).set('Content-Type', 'application/json').send('{}');
    const fdToken = gw.token({ scopes: ['dis:write:clicks'], subject: 'svc-frontdoor' });
    const disStream = gw.streams[0]?.disStream ?? '';
    for (let i = 0; i < 2; i++) {
      await gw.http
        .post(frontdoor)
        .set('X-Auth-Token', fdToken)
        .set('Content-Type', 'application/json')
        .send({ stream_name: disStream, records: [{ data: 'YQ==' }] });
    }
    scrape = await waitFor('the forwarder to write the spooled delivery', async () => {
      const text = (await gw.http.get('/metrics')).text;
      return /^gateway_spool_forwarded_records_total\{result="written"\} [1-9]/m.test(text)
        ? text
        : undefined;
    });
    families = parseScrape(scrape);
  });
  after(async () => {
    await gw.close();
  });

  const rowFor = (name: string): DocumentedMetric | undefined =>
    documented.find((row) => matchesName(row.name, name));

  it('lists every family of the scrape, with its type and label names', () => {
    const missing: string[] = [];
    for (const [name, family] of families) {
      const row = rowFor(name);
      if (row === undefined) {
        missing.push(name);
        continue;
      }
      // prom-client's defaults are documented by prefix; their names and types are its own.
      if (row.name.endsWith('*')) continue;
      assert.equal(family.type, row.type, `${name}: README says ${row.type}`);
      const seen = [...family.labels].sort();
      if (family.samples > 0)
        assert.deepEqual(seen, [...row.labels].sort(), `${name}: label names`);
    }
    assert.deepEqual(missing, [], 'families in the scrape that README does not list');
  });

  it('has no row the scrape lacks', () => {
    for (const row of documented) {
      const found = [...families.keys()].filter((name) => matchesName(row.name, name));
      assert.ok(found.length > 0, `README lists ${row.name}, the scrape has no such family`);
    }
  });

  it('compares the label names of most families on real samples', () => {
    const labelled = documented.filter((row) => !row.name.endsWith('*') && row.labels.length > 0);
    const sampled = labelled.filter((row) => (families.get(row.name)?.samples ?? 0) > 0);
    // Redis errors, replication timeouts, DIS retries, isolated refusals and the HTTP server's own
    // answers need failures to count.
    assert.ok(
      sampled.length >= labelled.length - 5,
      `only ${String(sampled.length)} of ${String(labelled.length)} labelled families had samples`,
    );
  });

  it('leaves out the default gauges whose names end in _total', () => {
    for (const name of families.keys()) {
      if (name.endsWith('_total'))
        assert.equal(families.get(name)?.type, 'counter', `${name} ends in _total`);
    }
    assert.ok(families.has('process_cpu_seconds_total'), 'default metrics keep their usual names');
    assert.ok(families.has('nodejs_eventloop_lag_p99_seconds'));
  });

  const promtool = findPromtool();
  it('passes promtool check metrics', promtool === undefined ? { skip: NO_PROMTOOL } : {}, () => {
    if (promtool === undefined) return;
    const result = runPromtool(promtool, ['check', 'metrics'], scrape);
    assert.equal(result.status, 0, result.output);
    assert.equal(result.output.trim(), '', 'no lint findings');
  });
});

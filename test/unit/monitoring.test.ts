import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Histogram } from 'prom-client';
import { parse } from 'yaml';
import { createMetrics, registerSpoolGauges } from '../../src/observability/metrics.ts';
import { renderPrometheusRule } from '../../scripts/render-prometheusrule.ts';
import { NO_PROMTOOL, findPromtool, runPromtool } from '../helpers/promtool.ts';

const dir = new URL('../../deploy/monitoring/', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, dir), 'utf8');
const path = (name: string): string => new URL(name, dir).pathname;

/** Every series name the gateway exposes (its own and prom-client's defaults), and Prometheus's `up`. */
function knownSeries(): Set<string> {
  const metrics = createMetrics({ version: 'test', nodeVersion: 'test' });
  registerSpoolGauges(metrics, { stats: () => Promise.resolve([]) });
  const names = new Set(['up']);
  for (const metric of metrics.registry.getMetricsAsArray()) {
    names.add(metric.name);
    if (metric instanceof Histogram)
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
  }
  return names;
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/** The metric names a PromQL expression selects (strings, matchers, groupings and ranges left out). */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    .replace(/\b(?:group_left|group_right)\b/g, '')
    .replace(/\[[^\]]*\]/g, '');
  return [...bare.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)]
    .map((m) => m[1] ?? '')
    .filter((name) => !KEYWORDS.has(name.toLowerCase()) && !/^\d/.test(name));
}

interface Rule {
  readonly alert?: string;
  readonly expr: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

function alertRules(): Rule[] {
  const doc = parse(read('alerts.yaml')) as { groups: { rules: Rule[] }[] };
  return doc.groups.flatMap((g) => g.rules);
}

interface Panel {
  readonly type: string;
  readonly title: string;
  readonly datasource?: { readonly uid?: string };
  readonly targets?: readonly { readonly expr: string }[];
}

function dashboard(): {
  panels: Panel[];
  templating: { list: { name: string; type: string }[] };
} {
  return JSON.parse(read('dashboard.json')) as ReturnType<typeof dashboard>;
}

describe('deploy/monitoring', () => {
  const known = knownSeries();
  const promtool = findPromtool();
  const needsPromtool = promtool === undefined ? { skip: NO_PROMTOOL } : {};

  it('names in every alert only metrics the gateway exposes', () => {
    const rules = alertRules();
    assert.ok(rules.length >= 10);
    for (const rule of rules) {
      const names = metricNames(rule.expr);
      assert.ok(names.length > 0, `${String(rule.alert)}: no metric found in ${rule.expr}`);
      for (const name of names) assert.ok(known.has(name), `${String(rule.alert)}: ${name}`);
    }
  });

  it('gives every alert a severity, a summary, a description and a runbook', () => {
    for (const rule of alertRules()) {
      assert.match(rule.labels?.severity ?? '', /^(critical|warning|info)$/, String(rule.alert));
      for (const key of ['summary', 'description', 'runbook'])
        assert.ok((rule.annotations?.[key] ?? '') !== '', `${String(rule.alert)}: ${key}`);
    }
  });

  it('has a dashboard whose panels read the datasource variable and only known metrics', () => {
    const board = dashboard();
    assert.ok(
      board.templating.list.some((v) => v.name === 'datasource' && v.type === 'datasource'),
    );
    const panels = board.panels.filter((p) => p.type !== 'row');
    assert.ok(panels.length >= 15);
    for (const panel of panels) {
      assert.equal(panel.datasource?.uid, '${datasource}', panel.title);
      assert.ok((panel.targets ?? []).length > 0, `${panel.title}: no query`);
      for (const { expr } of panel.targets ?? [])
        for (const name of metricNames(expr)) assert.ok(known.has(name), `${panel.title}: ${name}`);
    }
    const all = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join('\n');
    for (const standard of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
    ])
      assert.ok(all.includes(standard), `the dashboard shows ${standard}`);
  });

  it('has a committed prometheusrule.yaml that is alerts.yaml rendered', () => {
    const committed = read('prometheusrule.yaml');
    assert.equal(committed, renderPrometheusRule(read('alerts.yaml')));
    const rule = parse(committed) as { kind: string; spec: { groups: unknown } };
    assert.equal(rule.kind, 'PrometheusRule');
    assert.deepEqual(rule.spec.groups, (parse(read('alerts.yaml')) as { groups: unknown }).groups);
  });

  it('passes promtool check rules', needsPromtool, () => {
    if (promtool === undefined) return;
    const result = runPromtool(promtool, ['check', 'rules', path('alerts.yaml')]);
    assert.equal(result.status, 0, result.output);
  });

  it('passes promtool test rules alerts.test.yaml', needsPromtool, () => {
    if (promtool === undefined) return;
    const result = runPromtool(promtool, ['test', 'rules', path('alerts.test.yaml')]);
    assert.equal(result.status, 0, result.output);
  });

  it('has dashboard queries that are valid PromQL', needsPromtool, () => {
    if (promtool === undefined) return;
    // promtool parses expressions in rule files: each query becomes a recording rule, with
    // Grafana's variables filled in.
    const exprs = dashboard()
      .panels.flatMap((p) => p.targets ?? [])
      .map((t) => t.expr.replaceAll('$__rate_interval', '5m').replaceAll('$job', '.+'));
    const rules = {
      groups: [
        { name: 'dashboard', rules: exprs.map((expr, i) => ({ record: `dashboard:q${i}`, expr })) },
      ],
    };
    const tmp = mkdtempSync(join(tmpdir(), 'dashboard-promql-'));
    try {
      const file = join(tmp, 'rules.json');
      writeFileSync(file, JSON.stringify(rules));
      const result = runPromtool(promtool, ['check', 'rules', file]);
      assert.equal(result.status, 0, result.output);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

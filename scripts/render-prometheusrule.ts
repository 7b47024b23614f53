import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

// deploy/monitoring/prometheusrule.yaml is alerts.yaml's rule groups in a PrometheusRule (Prometheus
// Operator): one source for both ways of loading the rules. `--check` fails when the committed file
// is not what alerts.yaml renders to (CI runs it).

const HEADER =
  '# Generated from alerts.yaml by `node scripts/render-prometheusrule.ts`: edit alerts.yaml, then run it.\n';

/** The PrometheusRule manifest for the rule groups of a Prometheus rules file. */
export function renderPrometheusRule(alertsYaml: string): string {
  const rules: unknown = parse(alertsYaml);
  const groups =
    typeof rules === 'object' && rules !== null && 'groups' in rules ? rules.groups : undefined;
  if (!Array.isArray(groups) || groups.length === 0)
    throw new Error('alerts.yaml has no rule groups');
  const manifest = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: 'dis-gateway',
      labels: {
        'app.kubernetes.io/name': 'dis-gateway',
        'app.kubernetes.io/component': 'gateway',
      },
    },
    spec: { groups },
  };
  return HEADER + stringify(manifest, { lineWidth: 0 });
}

if (import.meta.main) {
  const path = (name: string): string =>
    fileURLToPath(new URL(`../deploy/monitoring/${name}`, import.meta.url));
  const rendered = renderPrometheusRule(readFileSync(path('alerts.yaml'), 'utf8'));
  const target = path('prometheusrule.yaml');
  if (process.argv.includes('--check')) {
    let committed = '';
    try {
      committed = readFileSync(target, 'utf8');
    } catch {
      // missing: reported as stale below
    }
    if (committed !== rendered) {
      console.error(
        'deploy/monitoring/prometheusrule.yaml is not what alerts.yaml renders to: run node scripts/render-prometheusrule.ts',
      );
      process.exitCode = 1;
    }
  } else {
    writeFileSync(target, rendered);
    console.log('wrote deploy/monitoring/prometheusrule.yaml');
  }
}

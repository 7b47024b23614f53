import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { isRecord } from '../../src/config/env-overrides.ts';

// The deployment files as data: what the review of issue #15 found wrong must stay fixed.

const ROOT = new URL('../..', import.meta.url).pathname;
const SECRETS_DIR = './deploy/compose/secrets/';

function readYaml(path: string): unknown {
  // Compose's files use merge keys (`<<: *gateway`).
  return parse(readFileSync(join(ROOT, path), 'utf8'), { merge: true });
}

function record(value: unknown, what: string): Record<string, unknown> {
  assert.ok(isRecord(value), `${what} is a mapping`);
  return value;
}

function strings(value: unknown, what: string): string[] {
  assert.ok(Array.isArray(value), `${what} is a list`);
  return value.map((item: unknown) => {
    if (typeof item === 'string') return item;
    if (isRecord(item) && typeof item.source === 'string') return item.source;
    return assert.fail(`${what}: unexpected entry ${JSON.stringify(item)}`);
  });
}

const compose = record(readYaml('docker-compose.yml'), 'docker-compose.yml');
const services = record(compose.services, 'services');
const service = (name: string) => record(services[name], `services.${name}`);
const environment = (name: string) =>
  record(service(name).environment, `services.${name}.environment`);

/** Names that carry a secret's value, as opposed to its file (`*_FILE`). */
const SECRET_VALUE = /(SECRET|_SK|PASSWORD|TOKEN|PRIVATE_KEY)$/;

describe('docker-compose.yml', () => {
  it('runs both gateways in production mode, allowing the emulator’s plain http', () => {
    for (const name of ['gateway-1', 'gateway-2']) {
      const env = environment(name);
      assert.equal(env.NODE_ENV, 'production', name);
      assert.equal(env.DIS_ALLOW_INSECURE_HTTP, 'true', name);
      assert.match(String(env.DIS_ENDPOINT), /^http:\/\/emulator:/, name);
    }
  });

  it('puts no secret value in any environment: secrets are files under /run/secrets the service mounts', () => {
    for (const [name, value] of Object.entries(services)) {
      const env = isRecord(value) && isRecord(value.environment) ? value.environment : {};
      const mounted = new Set(
        isRecord(value) && value.secrets !== undefined
          ? strings(value.secrets, `${name}.secrets`)
          : [],
      );
      for (const [key, setting] of Object.entries(env)) {
        assert.doesNotMatch(key, SECRET_VALUE, `${name}: ${key} holds a secret value`);
        if (!key.endsWith('_FILE')) continue;
        const match = /^\/run\/secrets\/([a-z0-9-]+)$/.exec(String(setting));
        assert.ok(match, `${name}: ${key} points at a compose secret`);
        assert.ok(mounted.has(match[1] ?? ''), `${name}: ${key}'s secret is mounted`);
      }
    }
    for (const name of ['gateway-1', 'gateway-2']) {
      const env = environment(name);
      assert.equal(env.JWT_SECRET_FILE, '/run/secrets/jwt-secret', name);
      assert.equal(env.DIS_SK_FILE, '/run/secrets/dis-sk', name);
    }
    assert.equal(environment('emulator').EMULATOR_SK_FILE, '/run/secrets/dis-sk');
  });

  it('reads every compose secret from a file in deploy/compose/secrets/, which git ignores', () => {
    const secrets = record(compose.secrets, 'secrets');
    assert.deepEqual(Object.keys(secrets).sort(), ['dis-sk', 'jwt-secret']);
    for (const [name, value] of Object.entries(secrets))
      assert.equal(record(value, name).file, `${SECRETS_DIR}${name}`, name);
    const ignored = readFileSync(join(ROOT, '.gitignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim());
    assert.ok(ignored.includes('deploy/compose/secrets/'), '.gitignore lists the secrets dir');
    const dockerIgnored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    assert.ok(dockerIgnored.includes('deploy/compose/secrets'), '.dockerignore lists it');
  });

  it('publishes ports on the host’s loopback only, nginx on 127.0.0.1:8080', () => {
    assert.deepEqual(strings(service('nginx').ports, 'nginx.ports'), ['127.0.0.1:8080:8080']);
    for (const [name, value] of Object.entries(services)) {
      if (!isRecord(value) || value.ports === undefined) continue;
      for (const port of strings(value.ports, `${name}.ports`))
        assert.match(port, /^127\.0\.0\.1:/, `${name} publishes ${port} beyond loopback`);
    }
  });

  it('scripts/compose-secrets.sh writes the files compose names, mode 0600, keeps them on a second run and prints no value', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-compose-secrets-'));
    t.after(() => {
      rmSync(dir, { recursive: true, force: true });
    });
    mkdirSync(join(dir, 'scripts'));
    copyFileSync(join(ROOT, 'scripts/compose-secrets.sh'), join(dir, 'scripts/compose-secrets.sh'));
    const run = () =>
      execFileSync('sh', [join(dir, 'scripts/compose-secrets.sh')], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });

    const printed = run();
    const values = Object.keys(record(compose.secrets, 'secrets')).map((name) => {
      const path = join(dir, SECRETS_DIR, name);
      assert.equal(statSync(path).mode & 0o777, 0o600, `${name} is 0600`);
      return readFileSync(path, 'utf8');
    });
    const printedAgain = run();

    for (const value of values) {
      assert.ok(value.length >= 43, 'at least 32 random bytes in base64');
      assert.doesNotMatch(value, /REPLACE|CHANGE-ME|,|\s/);
      assert.ok(!printed.includes(value) && !printedAgain.includes(value), 'a value is printed');
    }
    assert.notEqual(values[0], values[1]);
    assert.match(printedAgain, /kept/);
    const after = Object.keys(record(compose.secrets, 'secrets')).map((name) =>
      readFileSync(join(dir, SECRETS_DIR, name), 'utf8'),
    );
    assert.deepEqual(after, values);
  });
});

/** RFC 6901, as kustomize's JSON patches use it: `~1` is `/`, `~0` is `~`. */
function at(document: unknown, pointer: string): unknown {
  let node = document;
  for (const token of pointer.split('/').slice(1)) {
    const key = token.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(node)) node = /^\d+$/.test(key) ? node[Number(key)] : undefined;
    else node = isRecord(node) ? node[key] : undefined;
    if (node === undefined) return assert.fail(`${pointer} does not exist (at ${key})`);
  }
  return node;
}

function hasKubectl(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('deploy/components/lb-direct and deploy/variants/lb-direct', () => {
  const COMPONENT = 'deploy/components/lb-direct';
  const component = record(readYaml(`${COMPONENT}/kustomization.yaml`), 'the component');
  const basePolicy = record(readYaml('deploy/base/networkpolicy.yaml'), 'the base NetworkPolicy');

  it('is a kustomize Component whose one patch targets the base’s NetworkPolicy', () => {
    assert.equal(component.apiVersion, 'kustomize.config.k8s.io/v1alpha1');
    assert.equal(component.kind, 'Component');
    const patches = component.patches;
    assert.ok(Array.isArray(patches) && patches.length === 1);
    const patch = record(patches[0], 'the patch');
    const target = record(patch.target, 'the patch target');
    assert.equal(target.kind, basePolicy.kind);
    assert.equal(target.name, record(basePolicy.metadata, 'metadata').name);
    const base = record(readYaml('deploy/base/kustomization.yaml'), 'the base');
    assert.ok(strings(base.resources, 'resources').includes('networkpolicy.yaml'));
    assert.ok(typeof patch.path === 'string' && existsSync(join(ROOT, COMPONENT, patch.path)));
  });

  it('its JSON patch checks the ingress-nginx rule is there and replaces it with the load balancer’s CIDRs, keeping Prometheus', () => {
    const ops = readYaml(`${COMPONENT}/networkpolicy-lb-direct.yaml`);
    assert.ok(Array.isArray(ops));
    const [test, replace, ...rest] = ops.map((op: unknown) => record(op, 'an op'));
    assert.deepEqual(rest, []);
    assert.equal(test?.op, 'test');
    assert.equal(at(basePolicy, String(test.path)), test.value);
    assert.equal(test.value, 'ingress-nginx');
    assert.equal(replace?.op, 'replace');
    at(basePolicy, String(replace.path));

    const rule = record(replace.value, 'the new rule');
    const from = rule.from;
    assert.ok(Array.isArray(from) && from.length > 0);
    for (const peer of from) {
      const cidr = String(record(record(peer, 'a peer').ipBlock, 'ipBlock').cidr);
      const [address = '', prefix = ''] = cidr.split('/');
      assert.ok(isIP(address) !== 0 && /^\d{1,3}$/.test(prefix), `${cidr} is a CIDR`);
    }
    assert.deepEqual(rule.ports, [{ port: 'http', protocol: 'TCP' }]);
    // The other rule (Prometheus) is at index 1 and stays.
    assert.equal(
      at(
        basePolicy,
        '/spec/ingress/1/from/0/namespaceSelector/matchLabels/kubernetes.io~1metadata.name',
      ),
      'monitoring',
    );
  });

  it('the variant is the base plus the component', () => {
    const variantPath = 'deploy/variants/lb-direct/kustomization.yaml';
    const variant = record(readYaml(variantPath), 'the variant');
    assert.equal(variant.kind, 'Kustomization');
    assert.deepEqual(variant.resources, ['../../base']);
    assert.deepEqual(variant.components, ['../../components/lb-direct']);
    for (const path of [...strings(variant.resources, 'r'), ...strings(variant.components, 'c')])
      assert.ok(existsSync(join(ROOT, dirname(variantPath), path, 'kustomization.yaml')), path);
  });

  it(
    'renders with kubectl kustomize: the NetworkPolicy admits the CIDRs, not the ingress-nginx namespace',
    { skip: !hasKubectl() && 'kubectl is not installed' },
    () => {
      const rendered = execFileSync(
        'kubectl',
        ['kustomize', join(ROOT, 'deploy/variants/lb-direct')],
        {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      const policies = parseAllDocuments(rendered)
        .map((document) => record(document.toJS(), 'a rendered object'))
        .filter((object) => object.kind === 'NetworkPolicy');
      assert.equal(policies.length, 1);
      const ingress = at(policies[0], '/spec/ingress');
      assert.ok(Array.isArray(ingress) && ingress.length === 2);
      assert.ok(isRecord(at(policies[0], '/spec/ingress/0/from/0/ipBlock')));
      assert.doesNotMatch(rendered, /ingress-nginx/);
    },
  );
});

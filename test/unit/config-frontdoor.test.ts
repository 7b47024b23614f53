import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load-config.ts';
import { redactConfig } from '../../src/config/redact.ts';
import { expectConfig, expectProblems, filesFrom } from '../helpers/config-results.ts';

// frontdoor.clients: the AK is an id (written in the file), the SK only by reference; every AK once;
// every write scope names a configured stream.

const SK = 'frontdoor-client-sk-0123456789';
const base = {
  GATEWAY_STREAMS: 'clicks=dis-clicks:2',
  GATEWAY_CONFIG: '/c.yaml',
  FD_SK: SK,
};

function load(file: string, env: Record<string, string> = {}) {
  return loadConfig({ ...base, ...env }, filesFrom({ '/c.yaml': file, '/run/fd-sk': `${SK}\n` }));
}

describe('config: frontdoor', () => {
  it('is on by default with no clients, and takes a client with sk_env or sk_file', () => {
    const none = expectConfig(load('{}'));
    assert.equal(none.frontdoor.enabled, true);
    assert.deepEqual(none.frontdoor.clients, {});
    assert.equal(none.frontdoor.maxRecordsPerRequest, 50_000);
    assert.equal(none.frontdoor.allowUnsignedPayload, false);
    assert.equal(none.frontdoor.bodyLimitBytes, 12 * 1024 * 1024);
    const config = expectConfig(
      load(`
frontdoor:
  clients:
    a: { ak: FDAK0000000000000001, sk_env: FD_SK, principal: svc-a, scopes: "dis:write:clicks" }
    b: { ak: FDAK0000000000000002, sk_file: /run/fd-sk, principal: svc-b, scopes: ["dis:write:*"] }
`),
    );
    assert.deepEqual(config.frontdoor.clients.a, {
      ak: 'FDAK0000000000000001',
      sk: SK,
      principal: 'svc-a',
      scopes: ['dis:write:clicks'],
    });
    assert.equal(config.frontdoor.clients.b?.sk, SK, 'the file’s trailing newline is dropped');
    const printed = JSON.stringify(redactConfig(config));
    assert.ok(!printed.includes(SK), 'check-config never prints an SK');
    assert.ok(printed.includes('FDAK0000000000000001'), 'the AK is an id and is shown');
  });

  it('refuses a literal SK, a missing one, a short one, a repeated AK and a scope for no stream', () => {
    const problems = expectProblems(
      load(
        `
frontdoor:
  clients:
    literal: { ak: FDAK0000000000000001, sk: "${SK}", principal: p, scopes: "dis:write:clicks" }
    short: { ak: FDAK0000000000000002, sk_env: SHORT_SK, principal: p, scopes: "dis:write:clicks" }
    twin: { ak: FDAK0000000000000002, sk_env: FD_SK, principal: p, scopes: "dis:write:click" }
`,
        { SHORT_SK: 'short' },
      ),
    );
    assert.deepEqual(problems, [
      'frontdoor.clients.literal.sk: secrets must not be written in the config file; name them with sk_env or sk_file',
      'frontdoor.clients.literal: needs sk_env or sk_file',
      'frontdoor.clients.short: the SK must be at least 16 characters',
      'frontdoor.clients.twin.ak: the same AK as frontdoor.clients.short',
      'frontdoor.clients.twin.scopes: "dis:write:click" grants no configured stream (dis:write:<a key of streams> or dis:write:*)',
    ]);
    assert.ok(!problems.join('\n').includes(SK));
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signRequest } from '../../src/dis/signer.ts';
import { createLeanSigner } from '../bench/lean-signer.ts';

// The benchmark baseline's lean signer signs exactly as the gateway's signer does.
describe('bench: lean PutRecords signer', () => {
  it('gives the same Authorization as src/dis/signer.ts, for several bodies and dates', () => {
    const url = new URL('http://127.0.0.1:41237/v2/0123456789abcdef0123456789abcdef/records');
    const credentials = {
      ak: 'HPUAEXAMPLEAK0000001',
      sk: 'eXaMpLeSeCrEtKeY0000000000000000000000001',
    };
    const projectId = '0123456789abcdef0123456789abcdef';
    const lean = createLeanSigner({ url, projectId, ...credentials });
    for (const [body, date] of [
      ['{"stream_name":"s","records":[{"data":"YQ=="}]}', new Date('2024-03-15T08:30:00Z')],
      ['{"stream_name":"s","records":[]}', new Date('2026-12-03T06:00:01Z')],
      ['{"stream_name":"ü","records":[{"data":"8J+Ygg=="}]}', new Date('2030-01-01T00:00:00Z')],
    ] as const) {
      const full = signRequest({
        method: 'POST',
        url,
        headers: { 'Content-Type': 'application/json', 'X-Project-Id': projectId },
        body,
        credentials,
        date,
      });
      const headers = lean.sign(body, date);
      assert.equal(headers.Authorization, full.authorization);
      assert.equal(headers['X-Sdk-Date'], full.headers['X-Sdk-Date']);
    }
  });
});

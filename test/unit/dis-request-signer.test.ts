import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRequestSigner } from '../../src/dis/request-signer.ts';
import { signRequest } from '../../src/dis/signer.ts';

// The connection's lean signer and the generic v3 signer (itself checked against the official
// SDK's vectors in dis-signer.test.ts) sign every request the connection sends alike.

const PROJECT = '0123456789abcdef0123456789abcdef';
const cases: readonly [string, string, string][] = [
  [
    'POST',
    `https://dis.cn-north-4.myhuaweicloud.com/v2/${PROJECT}/records`,
    '{"stream_name":"s","records":[{"data":"YQ=="}]}',
  ],
  ['POST', `http://127.0.0.1:41237/v2/${PROJECT}/records`, '{"stream_name":"ü","records":[]}'],
  [
    'GET',
    `http://127.0.0.1:41237/v2/${PROJECT}/streams/dis-clicks?start_partitionId=shardId-0000000001&limit_partitions=10`,
    '',
  ],
  ['GET', `http://127.0.0.1:41237/v2/${PROJECT}/streams?limit=10`, ''],
  ['DELETE', `http://127.0.0.1:41237/v2/${PROJECT}/streams/a%20b`, ''],
];

describe('dis: the connection’s request signer', () => {
  for (const securityToken of [undefined, 'temp-token-value']) {
    it(`signs as signRequest does${securityToken === undefined ? '' : ', with a security token'}, over several seconds`, () => {
      const credentials = {
        ak: 'HPUAEXAMPLEAK0000001',
        sk: 'eXaMpLeSeCrEtKeY0000000000000000000000001',
        ...(securityToken === undefined ? {} : { securityToken }),
      };
      const lean = createRequestSigner(credentials, PROJECT);
      for (const at of [
        Date.UTC(2024, 2, 15, 8, 30, 0, 999),
        Date.UTC(2024, 2, 15, 8, 30, 1, 0),
        Date.UTC(2026, 11, 3, 6, 0, 0, 500),
      ]) {
        for (const [method, href, body] of cases) {
          const url = new URL(href);
          const full = signRequest({
            method,
            url,
            headers: { 'Content-Type': 'application/json', 'X-Project-Id': PROJECT },
            body,
            credentials,
            date: new Date(at),
          });
          // Twice: the second call comes from the caches.
          for (let i = 0; i < 2; i++) {
            const headers = lean.sign(method, url, body, at);
            assert.equal(headers.Authorization, full.authorization, `${method} ${href}`);
            assert.equal(headers['X-Sdk-Date'], full.headers['X-Sdk-Date']);
            assert.equal(headers['X-Security-Token'], securityToken);
            assert.equal(headers.host, url.host, 'host is sent as it was signed');
          }
        }
      }
    });
  }
});

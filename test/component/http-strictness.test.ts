import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';

// Requests a lenient server would serve but a proxy in front may have judged differently: two Host
// fields, a path in another case, a method the path does not have. Raw sockets, because a client
// library would normalise them.

describe('strict HTTP parsing and routing', () => {
  let gw: TestGateway;
  let server: Server;
  let port: number;
  before(async () => {
    gw = await startGateway({ streams: [{ name: 'clicks', partitions: 1 }] });
    server = createServer(gw.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
    await gw.close();
  });

  /** Sends `head` (CRLF lines, no final blank line) and `body`; resolves with the raw answer. */
  function exchange(head: string[], body = ''): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let answer = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        answer += chunk;
      });
      socket.on('end', () => {
        resolve(answer);
      });
      socket.on('error', reject);
      socket.write(`${[...head, 'Connection: close', '', ''].join('\r\n')}${body}`);
    });
  }
  const statusOf = (answer: string): number => Number(answer.split(' ')[1]);
  const header = (answer: string, name: string): string | undefined =>
    new RegExp(`^${name}: (.*)$`, 'im').exec(answer.split('\r\n\r\n')[0] ?? '')?.[1];

  it('refuses two Host headers with 400 problem+json (RFC 9112 §3.2)', async () => {
    const answer = await exchange(['GET /healthz HTTP/1.1', 'Host: a.example', 'Host: b.example']);
    assert.equal(statusOf(answer), 400, answer);
    assert.match(header(answer, 'Content-Type') ?? '', /application\/problem\+json/);
    assert.ok(header(answer, 'X-Request-Id'));
    const one = await exchange(['GET /healthz HTTP/1.1', 'Host: a.example']);
    assert.equal(statusOf(one), 200, 'positive control');
  });

  it('routes are case-sensitive: /V1/STREAMS/clicks/RECORDS writes nothing', async () => {
    const body = '{"records":[{"data":{"n":1}}]}';
    const write = (path: string) =>
      exchange(
        [
          `POST ${path} HTTP/1.1`,
          'Host: gw.example',
          `Authorization: Bearer ${gw.token()}`,
          'Content-Type: application/json',
          `Content-Length: ${Buffer.byteLength(body)}`,
        ],
        body,
      );
    assert.equal(statusOf(await write('/V1/STREAMS/clicks/RECORDS')), 404);
    assert.equal(
      statusOf(await write('/v1/streams/clicks/records/')),
      404,
      'no trailing-slash alias',
    );
    assert.equal(gw.stored('clicks').length, 0);
    assert.equal(statusOf(await write('/v1/streams/clicks/records')), 200, 'positive control');
    assert.equal(gw.stored('clicks').length, 1);
  });

  it('answers 405 with Allow to other methods on the operational paths and receipts', async () => {
    const cases: [string, string, string][] = [
      ['TRACE', '/healthz', 'GET, HEAD'],
      ['PUT', '/readyz', 'GET, HEAD'],
      ['POST', '/metrics', 'GET, HEAD'],
      ['DELETE', '/openapi.json', 'GET, HEAD'],
      ['DELETE', '/v1/receipts/abc', 'GET, HEAD'],
      ['PUT', '/v1/streams/clicks/records', 'POST'],
    ];
    for (const [method, path, allow] of cases) {
      const answer = await exchange([`${method} ${path} HTTP/1.1`, 'Host: gw.example']);
      assert.equal(statusOf(answer), 405, `${method} ${path}: ${answer}`);
      assert.equal(header(answer, 'Allow'), allow, `${method} ${path}`);
    }
    const head = await exchange(['HEAD /healthz HTTP/1.1', 'Host: gw.example']);
    assert.equal(statusOf(head), 200, 'HEAD is GET without the body');
  });
});

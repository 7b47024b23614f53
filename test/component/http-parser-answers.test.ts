import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { problemBodySchema } from '../../src/errors/problem-body.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';

// What Node's HTTP server answers itself, before the app sees a request: a message it cannot frame,
// headers over the limit, an Expect other than 100-continue. Each is problem+json with a request id
// and closes the connection, like the answers the app gives. Raw sockets: a client library would
// refuse to send these requests.

interface Exchange {
  readonly status: number;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
  /** The server closed the connection (rather than the test giving up). */
  readonly closed: boolean;
}

describe('answers of the HTTP parser', () => {
  let gw: TestGateway;
  let server: { port: number; close(): Promise<void> };
  const logs: string[] = [];
  before(async () => {
    gw = await startGateway({
      streams: [{ name: 'clicks', partitions: 1 }],
      logger: createLogger({
        level: 'info',
        destination: {
          write: (line: string) => {
            logs.push(line);
          },
        },
      }),
    });
    server = await gw.serve();
  });
  after(async () => {
    await server.close();
    await gw.close();
  });

  /** Sends `raw` and resolves with the first answer once the server closes (or after 3 s). */
  function send(raw: string): Promise<Exchange> {
    return new Promise((resolve, reject) => {
      const socket = connect(server.port, '127.0.0.1');
      let text = '';
      const giveUp = setTimeout(() => {
        finish(false);
      }, 3000);
      const finish = (closed: boolean): void => {
        clearTimeout(giveUp);
        socket.destroy();
        const [head = '', ...rest] = text.split('\r\n\r\n');
        const [statusLine = '', ...lines] = head.split('\r\n');
        const headers = new Map(
          lines.map((line) => {
            const at = line.indexOf(':');
            return [line.slice(0, at).toLowerCase(), line.slice(at + 1).trim()] as const;
          }),
        );
        resolve({
          status: Number(statusLine.split(' ')[1]),
          headers,
          body: rest.join('\r\n\r\n'),
          closed,
        });
      };
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        text += chunk;
      });
      socket.on('close', () => {
        finish(true);
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ECONNRESET') reject(error);
      });
      socket.write(raw);
    });
  }

  function assertProblem(answer: Exchange, status: number, code: string): void {
    assert.equal(answer.status, status, answer.body);
    assert.equal(answer.headers.get('content-type'), 'application/problem+json');
    assert.equal(answer.headers.get('connection'), 'close');
    assert.match(answer.headers.get('x-request-id') ?? '', /^[A-Za-z0-9._:-]{1,128}$/);
    assert.equal(Number(answer.headers.get('content-length')), Buffer.byteLength(answer.body));
    const body = problemBodySchema.parse(JSON.parse(answer.body));
    assert.equal(body.code, code);
    assert.equal(body.status, status);
    assert.ok(answer.closed, 'the connection stayed open');
  }

  const RECORDS = 'POST /v1/streams/clicks/records HTTP/1.1\r\nHost: gw.example\r\n';
  const BODY = '{"records":[{"data":{"n":1}}]}';

  it('Content-Length with Transfer-Encoding (request smuggling) is 400 problem+json and writes nothing', async () => {
    const chunked = `${Buffer.byteLength(BODY).toString(16)}\r\n${BODY}\r\n0\r\n\r\n`;
    const answer = await send(
      `${RECORDS}Authorization: Bearer ${gw.token()}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${String(chunked.length)}\r\nTransfer-Encoding: chunked\r\n\r\n${chunked}`,
    );
    assertProblem(answer, 400, 'ERR_HTTP_BAD_REQUEST');
    assert.equal(gw.stored('clicks').length, 0);
  });

  it('a bad chunk size is 400 problem+json', async () => {
    const answer = await send(
      `${RECORDS}Authorization: Bearer ${gw.token()}\r\nContent-Type: application/json\r\n` +
        `Transfer-Encoding: chunked\r\n\r\nzz\r\n${BODY}\r\n0\r\n\r\n`,
    );
    assertProblem(answer, 400, 'ERR_HTTP_BAD_REQUEST');
    assert.equal(gw.stored('clicks').length, 0);
  });

  it('headers over the size limit are 431 problem+json', async () => {
    const answer = await send(`${RECORDS}X-Filler: ${'a'.repeat(20_000)}\r\n\r\n`);
    assertProblem(answer, 431, 'ERR_HTTP_HEADERS_TOO_LARGE');
  });

  it('an Expect other than 100-continue is 417 problem+json, with the caller’s request id', async () => {
    const answer = await send(
      `${RECORDS}Authorization: Bearer ${gw.token()}\r\nContent-Type: application/json\r\n` +
        `X-Request-Id: caller-id-1\r\nExpect: something\r\nContent-Length: ${String(BODY.length)}\r\n\r\n${BODY}`,
    );
    assertProblem(answer, 417, 'ERR_HTTP_EXPECTATION_FAILED');
    assert.equal(answer.headers.get('x-request-id'), 'caller-id-1');
    assert.equal(gw.stored('clicks').length, 0);
  });

  it('logs them as client errors without the request’s bytes, and counts them by code', async () => {
    const token = gw.token();
    await send(
      `${RECORDS}Authorization: Bearer ${token}\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n`,
    );
    const lines = logs.filter((line) => line.includes('client error answered by the HTTP server'));
    assert.ok(lines.length > 0);
    for (const line of lines) {
      assert.ok(!line.includes(token), 'a bearer token reached the log');
      assert.ok(!line.includes('"stack"'), 'logged with a stack');
      assert.equal((JSON.parse(line) as { level?: unknown }).level, 'info');
    }
    const metrics = await gw.metrics.registry.getSingleMetricAsString(
      'gateway_http_client_errors_total',
    );
    assert.match(metrics, /code="ERR_HTTP_BAD_REQUEST"\} [1-9]/);
  });

  it('a well-formed request on the same server is still answered by the app (positive control)', async () => {
    const answer = await send(
      `${RECORDS}Authorization: Bearer ${gw.token()}\r\nContent-Type: application/json\r\n` +
        `Connection: close\r\nContent-Length: ${String(BODY.length)}\r\n\r\n${BODY}`,
    );
    assert.equal(answer.status, 200, answer.body);
    assert.equal(gw.stored('clicks').length, 1);
  });
});

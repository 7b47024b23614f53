import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { problemBodySchema } from '../../src/errors/problem-body.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';

// The server's timeouts against a client that drips its request (slowloris): the bounds are the
// configured ones, plus at most one check interval. Raw sockets, because a client library would
// not send this slowly; the server is the one main.ts runs (createGatewayServer).

const HEADERS_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 2000;
const CHECK_INTERVAL_MS = 200;
/** Scheduling on a busy 2-core machine: how late an answer may be past its bound. */
const SLACK_MS = 700;
/** A client that has not been cut by then will not be; the tests fail rather than wait. */
const GIVE_UP_MS = 6000;

const CONFIG = JSON.stringify({
  server: {
    headers_timeout_ms: HEADERS_TIMEOUT_MS,
    request_timeout_ms: REQUEST_TIMEOUT_MS,
    connections_check_interval_ms: CHECK_INTERVAL_MS,
  },
});

interface Cut {
  /** From the connect to the server closing the connection; undefined if it never did. */
  readonly closedAfterMs: number | undefined;
  readonly answer: string;
}

describe('the server bounds a request that arrives too slowly', () => {
  let gw: TestGateway;
  let server: { port: number; close(): Promise<void> };
  before(async () => {
    gw = await startGateway({
      streams: [{ name: 'clicks', partitions: 1 }],
      env: { GATEWAY_CONFIG: '/virtual/gw.json' },
      readFile: () => CONFIG,
    });
    server = await gw.serve();
  });
  after(async () => {
    await server.close();
    await gw.close();
  });

  /** Writes `first`, then one byte of `drip` every `everyMs`, until the server closes. */
  function drip(first: string, dripped: string, everyMs: number): Promise<Cut> {
    return new Promise((resolve, reject) => {
      const start = performance.now();
      const socket = connect(server.port, '127.0.0.1');
      let answer = '';
      let sent = 0;
      const timer = setInterval(() => {
        if (sent < dripped.length && socket.writable) socket.write(dripped.charAt(sent++));
      }, everyMs);
      const giveUp = setTimeout(() => {
        finish(undefined);
      }, GIVE_UP_MS);
      const finish = (closedAfterMs: number | undefined): void => {
        clearInterval(timer);
        clearTimeout(giveUp);
        socket.destroy();
        resolve({ closedAfterMs, answer });
      };
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        answer += chunk;
      });
      socket.on('close', () => {
        finish(performance.now() - start);
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        // A reset after the answer still ends the exchange; anything else is the test's fault.
        if (error.code !== 'ECONNRESET') reject(error);
      });
      socket.write(first);
    });
  }

  const statusOf = (answer: string): number => Number(answer.split(' ')[1]);
  const header = (answer: string, name: string): string | undefined =>
    new RegExp(`^${name}: (.*)$`, 'im').exec(answer.split('\r\n\r\n')[0] ?? '')?.[1];

  function assertTimeoutProblem(answer: string): void {
    assert.equal(statusOf(answer), 408, answer);
    assert.equal(header(answer, 'Content-Type'), 'application/problem+json');
    assert.match(header(answer, 'X-Request-Id') ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(header(answer, 'Connection'), 'close');
    const body = problemBodySchema.parse(JSON.parse(answer.split('\r\n\r\n')[1] ?? ''));
    assert.equal(body.code, 'ERR_HTTP_REQUEST_TIMEOUT');
    assert.equal(body.status, 408);
  }

  it('headers dripped slower than headers_timeout_ms are cut with 408 within one check interval', async () => {
    const cut = await drip(
      'POST /v1/streams/clicks/records HTTP/1.1\r\nHost: gw.example\r\n',
      'X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n',
      100,
    );
    assert.ok(cut.closedAfterMs !== undefined, 'the server never closed the connection');
    assert.ok(
      cut.closedAfterMs >= HEADERS_TIMEOUT_MS - 20,
      `cut after ${String(cut.closedAfterMs)} ms, before the headers timeout`,
    );
    assert.ok(
      cut.closedAfterMs < HEADERS_TIMEOUT_MS + CHECK_INTERVAL_MS + SLACK_MS,
      `cut only after ${String(cut.closedAfterMs)} ms`,
    );
    assertTimeoutProblem(cut.answer);
  });

  it('a body dripped at 1 byte/s is cut with 408 near request_timeout_ms and nothing reaches DIS', async () => {
    const body = '{"records":[{"data":{"n":1}}]}';
    const head = [
      'POST /v1/streams/clicks/records HTTP/1.1',
      'Host: gw.example',
      `Authorization: Bearer ${gw.token()}`,
      'Content-Type: application/json',
      `Content-Length: ${String(Buffer.byteLength(body))}`,
      'Connection: close',
      '',
      '',
    ].join('\r\n');
    const cut = await drip(head, body, 1000);
    assert.ok(cut.closedAfterMs !== undefined, 'the server never closed the connection');
    assert.ok(
      cut.closedAfterMs >= REQUEST_TIMEOUT_MS - 20,
      `cut after ${String(cut.closedAfterMs)} ms, before the request timeout`,
    );
    assert.ok(
      cut.closedAfterMs < REQUEST_TIMEOUT_MS + CHECK_INTERVAL_MS + SLACK_MS,
      `cut only after ${String(cut.closedAfterMs)} ms`,
    );
    assertTimeoutProblem(cut.answer);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(gw.stored('clicks').length, 0, 'a part of the body was written');

    // Positive control: the same request sent at once is written.
    const whole = await drip(head + body, '', 1000);
    assert.equal(statusOf(whole.answer), 200, whole.answer);
    assert.equal(gw.stored('clicks').length, 1);
  });

  it('an idle keep-alive connection outlives headers_timeout_ms: the next request on it is served', async () => {
    const socket = connect(server.port, '127.0.0.1');
    socket.setEncoding('utf8');
    let answers = '';
    const answered = (n: number): Promise<void> =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (answers.split('HTTP/1.1 200').length > n) resolve();
        };
        socket.on('data', (chunk: string) => {
          answers += chunk;
          check();
        });
        socket.once('close', () => {
          reject(new Error(`closed after ${String(answers.split('HTTP/1.1').length - 1)} answers`));
        });
        check();
      });
    try {
      const request = 'GET /healthz HTTP/1.1\r\nHost: gw.example\r\n\r\n';
      socket.write(request);
      await answered(1);
      // Idle for longer than the headers and the request timeout, well within keep-alive's.
      await new Promise((resolve) =>
        setTimeout(resolve, REQUEST_TIMEOUT_MS + 2 * CHECK_INTERVAL_MS),
      );
      socket.write(request);
      await answered(2);
    } finally {
      socket.destroy();
    }
  });

  it('an answer that waits on DIS longer than request_timeout_ms is not cut: the timeout ends with the body', async () => {
    gw.emulator.faults.setLatency(REQUEST_TIMEOUT_MS + 500);
    try {
      const before = gw.stored('clicks').length;
      // Against the server with the timeouts (supertest would listen with Node's defaults).
      const res = await request(
        `http://127.0.0.1:${String(server.port)}/v1/streams/clicks/records`,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${gw.token()}`,
            'content-type': 'application/json',
            prefer: 'wait=5',
          },
          body: JSON.stringify({ records: [{ data: { n: 2 } }] }),
        },
      );
      const text = await res.body.text();
      assert.equal(res.statusCode, 200, text);
      assert.equal(gw.stored('clicks').length, before + 1);
    } finally {
      gw.emulator.faults.clear();
    }
  });
});

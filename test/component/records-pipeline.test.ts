import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGatewayOnRedis, type TestGatewayOnRedis } from '../helpers/gateway.ts';

// The order of the records pipeline (README "Rate limits"): a stored verdict is replayed before the
// limiter and the parse; a request refused after its body was read still costs its caller; a
// caller known to be over its limit is answered before its body is read.

describe('records pipeline order with a real Redis', () => {
  let gw: TestGatewayOnRedis;
  let server: Server;
  let port: number;
  before(async () => {
    // 1,000 bytes/s with a burst of 2 s: a 6,000-byte body leaves its caller about 4 s in debt.
    const config = JSON.stringify({
      limits: {
        default: {
          requests_per_s: 1000,
          burst: 1000,
          records_per_s: 100000,
          bytes_per_s: 1000,
        },
      },
    });
    gw = await startGatewayOnRedis({
      env: { GATEWAY_CONFIG: '/virtual/gateway.json' },
      readFile: () => config,
      streams: [{ name: 'clicks', partitions: 1 }],
      emulator: { throttling: false },
    });
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

  const post = (subject: string, body: string, key?: string) => {
    const req = gw.http
      .post('/v1/streams/clicks/records')
      .set('Authorization', `Bearer ${gw.token({ scopes: ['dis:write:clicks'], subject })}`)
      .set('Content-Type', 'application/json');
    if (key !== undefined) req.set('Idempotency-Key', key);
    return req.send(body);
  };
  // Malformed JSON of 6,000 bytes: refused by the parse, after its bytes were read.
  const malformed = `{"records":[${'x'.repeat(5_987)}`;
  const valid = JSON.stringify({ records: [{ id: 'e1', data: { n: 1 } }] });

  it('charges refused bodies: a caller sending malformed bodies is rate limited', async () => {
    const first = await post('svc-malformed', malformed);
    assert.equal(first.status, 400, first.text);
    assert.equal((first.body as { code: string }).code, 'ERR_HTTP_INVALID_JSON');
    const second = await post('svc-malformed', malformed);
    assert.equal(second.status, 429, second.text);
    assert.equal((second.body as { code: string }).code, 'ERR_RATE_LIMITED');
    assert.match(second.headers['retry-after'] ?? '', /^[1-9]\d*$/);
    const other = await post('svc-bystander', valid);
    assert.equal(other.status, 200, 'another caller of the same stream is not charged for it');
  });

  it('answers a caller known to be over its limit before reading its body', async () => {
    assert.equal((await post('svc-arrival', malformed)).status, 400);
    const token = gw.token({ scopes: ['dis:write:clicks'], subject: 'svc-arrival' });
    const started = Date.now();
    // Headers announcing 4 MB, and no body at all: only an answer on arrival can come back.
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let text = '';
      const timer = setTimeout(() => {
        socket.destroy();
        resolve(text);
      }, 3_000);
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        text += chunk;
      });
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(text);
      });
      socket.on('error', reject);
      socket.write(
        [
          'POST /v1/streams/clicks/records HTTP/1.1',
          'Host: gateway.test',
          `Authorization: Bearer ${token}`,
          'Content-Type: application/json',
          'Content-Length: 4000000',
          '',
          '',
        ].join('\r\n'),
      );
    });
    assert.match(answer, /^HTTP\/1\.1 429 /, answer || '(no answer within 3 s)');
    assert.match(answer, /^Content-Type: application\/problem\+json/im);
    assert.match(answer, /^Connection: close/im, 'the unread body is not waited for');
    assert.match(answer, /^Retry-After: [1-9]/im);
    assert.match(answer, /^RateLimit: "principal-bytes";r=0;t=\d+/im);
    assert.ok(Date.now() - started < 2_500, 'answered at once, and the socket closed');
  });

  it('replays a stored verdict to a caller that is over its limit', async () => {
    const first = await post('svc-replay', valid, 'replay-1');
    assert.equal(first.status, 200, first.text);
    const stored = gw.stored('clicks').length;
    // The first request's few bytes come back within ~10 ms; a body larger than the whole bucket
    // passes only into a full one (GCRA), so give it that time rather than race it.
    await sleep(100);
    assert.equal((await post('svc-replay', malformed)).status, 400);
    assert.equal((await post('svc-replay', valid)).status, 429, 'over its limit');
    const again = await post('svc-replay', valid, 'replay-1');
    assert.equal(again.status, 200, again.text);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(again.text, first.text);
    assert.equal(gw.stored('clicks').length, stored, 'nothing written again');
  });

  it('a keyed request refused by the limiter leaves its key free for the retry', async () => {
    assert.equal((await post('svc-free', malformed)).status, 400);
    const refused = await post('svc-free', valid, 'free-1');
    assert.equal(refused.status, 429, refused.text);
    const retried = await post('svc-free', valid, 'free-1');
    assert.equal(retried.status, 429, 'still over the limit, and not 409: no lock was left');
    const mismatch = await post('svc-free', JSON.stringify({ records: [{ data: 2 }] }), 'free-1');
    assert.equal(mismatch.status, 429, 'the key holds no fingerprint either');
  });
});

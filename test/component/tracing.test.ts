import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/observability/logger.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';

// W3C Trace Context end to end: the caller's traceparent reaches the access line and, as a child
// span, the DIS call the emulator receives.

describe('trace context from the caller to DIS', () => {
  let gw: TestGateway;
  const lines: Record<string, unknown>[] = [];
  const seen: IncomingHttpHeaders[] = [];
  before(async () => {
    const stream = new Writable({
      write(chunk: Buffer, _enc, callback) {
        for (const line of chunk.toString('utf8').split('\n'))
          if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
        callback();
      },
    });
    gw = await startGateway({
      streams: [{ name: 'clicks', partitions: 1 }],
      logger: createLogger({ level: 'info', destination: stream }),
    });
    gw.emulator.server.on(
      'request',
      (req: { method?: string; url?: string; headers: IncomingHttpHeaders }) => {
        if (req.method === 'POST' && req.url?.endsWith('/records') === true) seen.push(req.headers);
      },
    );
  });
  after(async () => {
    await gw.close();
  });

  const post = (headers: Record<string, string>) => {
    const req = gw.http
      .post('/v1/streams/clicks/records')
      .set('Authorization', `Bearer ${gw.token({ scopes: ['dis:write:clicks'] })}`)
      .set('Content-Type', 'application/json');
    for (const [name, value] of Object.entries(headers)) req.set(name, value);
    return req.send('{"records":[{"data":{"n":1}}]}');
  };
  const accessLine = (requestId: string) => {
    const line = lines.find((l) => l.msg === 'request' && l.req_id === requestId);
    assert.ok(line !== undefined, `no access line for ${requestId}`);
    return line;
  };

  it('continues the caller’s trace: access line and DIS call carry it, each with its own span', async () => {
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await post({
      traceparent: `00-${trace}-00f067aa0ba902b7-01`,
      tracestate: 'congo=t61rcWkgMzE',
      'X-Request-Id': 'trace-1',
    });
    assert.equal(res.status, 200, res.text);
    const line = accessLine('trace-1');
    assert.equal(line.trace_id, trace);
    assert.match(String(line.span_id), /^[0-9a-f]{16}$/);
    assert.notEqual(line.span_id, '00f067aa0ba902b7');
    const dis = seen.at(-1);
    assert.ok(dis !== undefined, 'the emulator saw the PutRecords');
    const [, disTrace, disSpan, flags] = String(dis.traceparent).split('-');
    assert.equal(disTrace, trace);
    assert.equal(flags, '01');
    assert.notEqual(disSpan, line.span_id, 'the DIS call is a child span of the request');
    assert.equal(dis.tracestate, 'congo=t61rcWkgMzE');
    assert.match(String(dis['user-agent']), /^dis-gateway(\/\S+)?$/);
  });

  it('starts a trace when the caller sends none (or an invalid one)', async () => {
    const res = await post({ traceparent: 'not-a-trace', 'X-Request-Id': 'trace-2' });
    assert.equal(res.status, 200, res.text);
    const line = accessLine('trace-2');
    assert.match(String(line.trace_id), /^[0-9a-f]{32}$/);
    const dis = seen.at(-1);
    assert.equal(String(dis?.traceparent).split('-')[1], line.trace_id);
    assert.equal(dis?.tracestate, undefined);
  });
});

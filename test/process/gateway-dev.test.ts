import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { z } from 'zod';
import { findCurlCommand, parseCurl } from '../helpers/process-curl.ts';
import { producerRequest, pythonJson } from '../helpers/dis-producer.ts';
import { spawnGateway } from '../helpers/process-gateway.ts';

const Verdicts = z.object({
  stream: z.string(),
  failed_record_count: z.number(),
  records: z.array(
    z.object({
      id: z.string().optional(),
      status: z.string(),
      partition_id: z.string().optional(),
      sequence_number: z.string().optional(),
    }),
  ),
});

describe('dev mode, started the way the README shows it', () => {
  it('with nothing configured, the banner names the emulator and the memory store, and its curl writes a record', async (t) => {
    const gateway = await spawnGateway(t, { env: { PORT: '0' } });

    const out = gateway.stdout();
    assert.match(out, /^dis-gateway \(dev mode\) listening on http:\/\/127\.0\.0\.1:\d+$/m);
    assert.match(out, /DIS: embedded emulator at http:\/\/127\.0\.0\.1:\d+/);
    assert.match(
      out,
      /REDIS_URL is not set: rate limits and idempotency keys live in this process/,
    );
    assert.match(out, /using an in-memory store/);
    const token = /dev token[^\n]*\n\s+(\S+)/.exec(out)?.[1];
    assert.ok(token !== undefined, 'a dev token is printed');
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);

    // The curl is read the way a shell reads it, then sent exactly as printed.
    const curl = parseCurl(findCurlCommand(out));
    assert.equal(curl.method, 'POST');
    assert.ok(curl.url.startsWith(`${gateway.url}/v1/streams/`), curl.url);
    assert.equal(curl.headers.authorization, `Bearer ${token}`);
    assert.ok(curl.body !== undefined, 'the curl sends a body');
    const response = await request(curl.url, {
      method: 'POST',
      headers: curl.headers,
      body: curl.body,
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    const text = await response.body.text();
    assert.equal(response.statusCode, 200, text);
    const answer = Verdicts.parse(JSON.parse(text));
    assert.equal(answer.failed_record_count, 0);
    assert.equal(answer.records.length, 1);
    const [record] = answer.records;
    assert.ok(record !== undefined);
    assert.equal(record.status, 'ok');
    assert.equal(record.id, 'evt-1');
    assert.match(record.partition_id ?? '', /^shardId-\d{10}$/);
    assert.match(record.sequence_number ?? '', /^\d+$/);

    // The DIS front door's dev client, used as the printed Python v3 snippet uses it: v3 signing,
    // the project in X-Project-Id, Python's JSON separators, the stream the snippet names.
    const client = /AK (\S+) {2}SK (\S+) {2}project ([0-9a-f]{32})/.exec(out);
    assert.ok(client !== null, 'a dev AK/SK is printed');
    const [, ak = '', sk = '', projectId = ''] = client;
    const snippetStream = /stream_name="([\w-]+)"/.exec(out)?.[1];
    assert.ok(snippetStream !== undefined, 'the snippet names a DIS stream');
    assert.match(out, new RegExp(`with_endpoints\\(\\["${gateway.url}"\\]\\)`));
    const sdk = await producerRequest({
      form: 'v3',
      url: `${gateway.url}/v2/${projectId}/records`,
      ak,
      sk,
      region: 'cn-north-4',
      projectId,
      body: pythonJson({
        records: [{ data: 'aGVsbG8sIGdhdGV3YXk=', partition_key: 'user-42' }],
        stream_name: snippetStream,
      }),
    });
    assert.equal(sdk.status, 200, sdk.text);
    assert.deepEqual(Object.keys(sdk.json as object), ['failed_record_count', 'records']);
    assert.equal((sdk.json as { failed_record_count: number }).failed_record_count, 0);

    // Ctrl-C, as a person stops dev mode: no load balancer to wait for, so no drain delay.
    assert.equal(await gateway.stop('SIGINT'), 0);
    assert.match(gateway.stdout(), /SIGINT: draining \(delay 0 ms/);
    assert.match(gateway.stdout(), /drained/);
  });
});

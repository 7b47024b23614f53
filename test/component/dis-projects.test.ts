import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createEmulator, type Emulator } from '../../src/emulator/emulator.ts';
import { uniqueStreamName } from '../helpers/dis-fixtures.ts';
import { startGatewayOnRedis, type TestGatewayOnRedis } from '../helpers/gateway.ts';
import { waitFor } from '../helpers/wait.ts';

// Two emulators as two DIS projects, with different project ids and credentials, behind one
// gateway on a real Redis: stream `clicks` writes to the top-level `dis` (emulator 1), `orders` to
// its own `streams.orders.dis` (emulator 2), and `refused` to emulator 2 with an SK it refuses.
const PROJECT_2 = 'b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2';
const CREDENTIALS_2 = { ak: 'AKPROJECTTWO00000002', sk: 'sk-of-the-second-project-000002' };

describe('several DIS projects behind one gateway', () => {
  let second: Emulator;
  let gw: TestGatewayOnRedis;
  const ordersStream = uniqueStreamName('gw-orders');
  const refusedStream = uniqueStreamName('gw-refused');

  before(async () => {
    second = await createEmulator({
      projectId: PROJECT_2,
      region: 'cn-south-1',
      credentials: [CREDENTIALS_2],
      streams: [
        { name: ordersStream, partitions: 1 },
        { name: refusedStream, partitions: 1 },
      ],
    });
    const target = (skEnv: string) => ({
      endpoint: second.url,
      region: second.region,
      project_id: PROJECT_2,
      auth: { ak_env: 'TWO_AK', sk_env: skEnv },
      breaker: { failure_threshold: 2, cool_down_ms: 60_000 },
    });
    gw = await startGatewayOnRedis({
      streams: [{ name: 'clicks', partitions: 1 }],
      env: {
        GATEWAY_CONFIG: '/virtual/projects.json',
        TWO_AK: CREDENTIALS_2.ak,
        TWO_SK: CREDENTIALS_2.sk,
        TWO_WRONG_SK: 'not-the-sk-the-second-project-knows',
      },
      readFile: () =>
        JSON.stringify({
          streams: {
            orders: { dis_stream: ordersStream, partitions: 1, dis: target('TWO_SK') },
            refused: { dis_stream: refusedStream, partitions: 1, dis: target('TWO_WRONG_SK') },
          },
          spool: { block_ms: 100 },
        }),
    });
  });

  after(async () => {
    await gw.close();
    await second.close();
  });

  const post = (stream: string, data: string, prefer?: string) => {
    const req = gw.http
      .post(`/v1/streams/${stream}/records`)
      .set('Authorization', `Bearer ${gw.token()}`)
      .set('Content-Type', 'application/json');
    if (prefer !== undefined) req.set('Prefer', prefer);
    return req.send({ records: [{ data }] });
  };
  const first = () => gw.emulator;
  const storedIn = (emulator: Emulator, disStream: string): string[] =>
    emulator.state
      .records(disStream)
      .flatMap((p) => p.records.map((r) => JSON.parse(r.data.toString()) as string));
  const everything = (emulator: Emulator): string[] =>
    emulator.state.streamNames().flatMap((name) => storedIn(emulator, name));

  it('records of each stream land in its own project only, read back from its emulator', async () => {
    const clicks = await post('clicks', 'to-project-1');
    assert.equal(clicks.status, 200, clicks.text);
    const orders = await post('orders', 'to-project-2');
    assert.equal(orders.status, 200, orders.text);

    const clicksStream = gw.streams[0]?.disStream ?? '';
    assert.deepEqual(storedIn(first(), clicksStream), ['to-project-1']);
    assert.deepEqual(storedIn(second, ordersStream), ['to-project-2']);
    assert.equal(everything(first()).includes('to-project-2'), false);
    assert.equal(everything(second).includes('to-project-1'), false);
  });

  it('spooled records are forwarded to their stream’s project', async () => {
    const accepted = await post('orders', 'spooled-to-project-2', 'respond-async');
    assert.equal(accepted.status, 202, accepted.text);
    const spooledClick = await post('clicks', 'spooled-to-project-1', 'respond-async');
    assert.equal(spooledClick.status, 202, spooledClick.text);
    await waitFor('the forwarder to write both spooled records', () =>
      storedIn(second, ordersStream).includes('spooled-to-project-2') &&
      everything(first()).includes('spooled-to-project-1')
        ? true
        : undefined,
    );
    assert.equal(everything(first()).includes('spooled-to-project-2'), false);
    assert.equal(everything(second).includes('spooled-to-project-1'), false);
  });

  it('the front door takes each project’s id and describes a stream through its own project', async () => {
    const token = gw.token({ scopes: ['dis:write:orders', 'dis:write:clicks'] });
    const described = await gw.http
      .get(`/v2/${PROJECT_2}/streams/${ordersStream}`)
      .set('X-Auth-Token', token);
    assert.equal(described.status, 200, described.text);
    assert.equal((described.body as { stream_name: string }).stream_name, ordersStream);
    const elsewhere = await gw.http
      .get(`/v2/${first().projectId}/streams/${ordersStream}`)
      .set('X-Auth-Token', token);
    assert.equal(elsewhere.status, 400, 'orders is not a stream of the first project');
    assert.equal((elsewhere.body as { errorCode: string }).errorCode, 'DIS.4301');
    const listed = await gw.http.get(`/v2/${PROJECT_2}/streams`).set('X-Auth-Token', token);
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual((listed.body as { stream_names: string[] }).stream_names, [ordersStream]);

    const written = await gw.http
      .post(`/v2/${PROJECT_2}/records`)
      .set('X-Auth-Token', token)
      .set('Content-Type', 'application/json')
      .send({
        stream_name: ordersStream,
        records: [{ data: Buffer.from('"frontdoor-to-project-2"').toString('base64') }],
      });
    assert.equal(written.status, 200, written.text);
    assert.ok(storedIn(second, ordersStream).includes('frontdoor-to-project-2'));
  });

  it('when one project refuses the credentials, only its breaker opens and the others keep writing', async () => {
    const opened = await waitFor('the refused target’s breaker to open', async () => {
      const refused = await post('refused', 'never-written');
      assert.notEqual(refused.status, 200, refused.text);
      const ready = await gw.http.get('/readyz');
      const checks = (ready.body as { checks: Record<string, unknown> }).checks;
      return checks.dis_breaker === 'open' ? checks : undefined;
    });
    assert.deepEqual(opened.dis_breakers, {
      dis: 'closed',
      'streams.orders.dis': 'closed',
      'streams.refused.dis': 'open',
    });
    const stillWriting = await post('orders', 'after-the-other-broke');
    assert.equal(stillWriting.status, 200, stillWriting.text);
    const clicks = await post('clicks', 'project-1-after');
    assert.equal(clicks.status, 200, clicks.text);
    assert.equal(everything(second).includes('never-written'), false);

    const metrics = (await gw.http.get('/metrics')).text;
    assert.match(metrics, /^gateway_dis_breaker_state\{dis_target="streams\.refused\.dis"\} 2$/m);
    assert.match(metrics, /^gateway_dis_breaker_state\{dis_target="streams\.orders\.dis"\} 0$/m);
    assert.match(metrics, /^gateway_dis_breaker_state\{dis_target="dis"\} 0$/m);
    assert.match(
      metrics,
      /^gateway_dis_requests_total\{operation="PutRecords",status="200",dis_target="streams\.orders\.dis"\} [1-9]/m,
    );
  });
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { closeRedis, type RedisClient } from '../../src/redis/connect.ts';
import { DEFAULT_SPOOL_KEY_PREFIX } from '../../src/spool/keys.ts';
import { signGithub } from '../../src/webhooks/sign.ts';
import { startGatewayOnRedis, type TestGatewayOnRedis } from '../helpers/gateway.ts';
import { connectTestRedis } from '../helpers/redis-server.ts';
import { spoolUnderTest } from '../helpers/spool-fixture.ts';

// Who may read a receipt: its sender, or an operator (`dis:receipts:read`). A token subject is
// whatever its issuer wrote, so it must never be mistaken for an internal owner such as a webhook
// source.

const GH_SECRET = 'gh-secret-for-receipt-tests';
const config = {
  webhooks: {
    sources: { gh: { profile: 'github', secrets_env: ['GH_SECRET'], stream: 'hooks' } },
  },
};

describe('receipt owners', () => {
  let client: RedisClient;
  let gw: TestGatewayOnRedis;
  before(async () => {
    gw = await startGatewayOnRedis({
      streams: [{ name: 'hooks', partitions: 1 }],
      env: { GATEWAY_CONFIG: '/virtual/gw.json', GH_SECRET },
      readFile: () => JSON.stringify(config),
    });
    client = await connectTestRedis(gw.redis);
  });
  after(async () => {
    await closeRedis(client);
    await gw.close();
  });

  const read = (receipt: string, token: string) =>
    gw.http.get(`/v1/receipts/${receipt}`).set('Authorization', `Bearer ${token}`);

  async function deliver(): Promise<string> {
    const body = '{"zen":"Keep it logically awesome."}';
    const res = await gw.postRaw('/v1/webhooks/gh', Buffer.from(body), {
      'Content-Type': 'application/json',
      'X-GitHub-Delivery': randomUUID(),
      'X-GitHub-Event': 'ping',
      'X-Hub-Signature-256': signGithub({ secret: GH_SECRET, body }),
    });
    assert.equal(res.status, 202, res.text);
    return (JSON.parse(res.text) as { receipt: string }).receipt;
  }

  it('a token whose subject is "webhook:<source>" cannot read that source’s receipts; an operator can', async () => {
    const receipt = await deliver();
    const lookalike = gw.token({ subject: 'webhook:gh', scopes: [] });
    assert.equal((await read(receipt, lookalike)).status, 404);
    const operator = gw.token({ subject: 'ops', scopes: ['dis:receipts:read'] });
    assert.equal((await read(receipt, operator)).status, 200);
  });

  it('a sender reads its own receipt, and a subject shaped like the namespace does not', async () => {
    const sent = await gw.http
      .post('/v1/streams/hooks/records')
      .set('Authorization', `Bearer ${gw.token({ subject: 'svc-a' })}`)
      .set('Prefer', 'respond-async')
      .set('Content-Type', 'application/json')
      .send('{"records":[{"data":{"n":1}}]}');
    assert.equal(sent.status, 202, sent.text);
    const { receipt } = sent.body as { receipt: string };
    assert.equal((await read(receipt, gw.token({ subject: 'svc-a' }))).status, 200);
    assert.equal((await read(receipt, gw.token({ subject: 'principal:svc-a' }))).status, 404);
    assert.equal((await read(receipt, gw.token({ subject: 'svc-b' }))).status, 404);
  });

  it('a receipt written before owners had a namespace stays readable by its sender, never by a look-alike', async () => {
    // What a gateway of the previous version stored: the bare principal id, or webhook:<source>.
    const { spool } = spoolUnderTest(client, { keyPrefix: DEFAULT_SPOOL_KEY_PREFIX });
    const disStream = gw.streams[0]?.disStream ?? '';
    const append = (owner: string) =>
      spool.append({
        disStream,
        logicalStream: 'hooks',
        owner,
        records: [{ data: Buffer.from('{}') }],
      });
    const bare = await append('svc-legacy');
    assert.equal((await read(bare.receiptId, gw.token({ subject: 'svc-legacy' }))).status, 200);
    const webhook = await append('webhook:gh');
    assert.equal((await read(webhook.receiptId, gw.token({ subject: 'webhook:gh' }))).status, 404);
  });
});

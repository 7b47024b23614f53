import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { runSendWebhookCommand } from '../../src/cli/send-webhook-command.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';

const fileConfig = JSON.stringify({
  webhooks: {
    sources: {
      gh: { profile: 'github', secrets_env: ['GH_SECRET'], stream: 'clicks', mode: 'sync' },
      sw: {
        profile: 'standard-webhooks',
        secrets_env: ['SW_SECRET'],
        stream: 'clicks',
        mode: 'sync',
      },
    },
  },
});
const secrets = {
  GH_SECRET: 'send-webhook-test',
  SW_SECRET: `whsec_${Buffer.from('0123456789abcdef0123456789').toString('base64')}`,
};

describe('dis-gateway send-webhook', () => {
  let gw: TestGateway;
  let url: string;
  let server: ReturnType<typeof createServer>;
  before(async () => {
    gw = await startGateway({
      streams: [{ name: 'clicks', partitions: 1 }],
      env: { GATEWAY_CONFIG: '/virtual/cli.json', ...secrets },
      readFile: () => fileConfig,
    });
    server = createServer(gw.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await gw.close();
  });

  const run = async (args: string[]) => {
    const out: string[] = [];
    const code = await runSendWebhookCommand(args, {
      env: {
        NODE_ENV: 'test',
        GATEWAY_CONFIG: '/virtual/cli.json',
        GATEWAY_STREAMS: 'clicks=any-dis-stream:1',
        ...secrets,
      },
      readFile: () => fileConfig,
      write: (line) => out.push(line),
      now: Date.now,
    });
    return { code, out: out.join('\n') };
  };

  it('sends a delivery signed like the provider would, and the gateway writes it', async () => {
    for (const source of ['gh', 'sw']) {
      const before = gw.stored('clicks').length;
      const { code, out } = await run([source, '--url', url, '--body', '{"ping":true}']);
      assert.equal(code, 0, out);
      assert.match(out, /^200 /);
      assert.equal(gw.stored('clicks').length, before + 1);
    }
  });

  it('fails clearly for an unknown source or bad flags', async () => {
    const unknown = await run(['nope', '--url', url]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.out, /no webhook source "nope".*gh, sw/);
    assert.equal((await run(['--bogus'])).code, 2);
  });
});

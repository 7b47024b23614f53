import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { findCurlCommand, parseCurl, type CurlRequest } from '../helpers/process-curl.ts';
import { spawnGateway, type GatewayProcess } from '../helpers/process-gateway.ts';

const DIS_LATENCY_MS = 1500;

/** A dev-mode gateway whose embedded emulator answers slowly, and a keep-alive client for it. */
async function slowDevGateway(t: TestContext): Promise<{
  gateway: GatewayProcess;
  curl: CurlRequest;
  agent: Agent;
}> {
  const gateway = await spawnGateway(t, {
    env: { PORT: '0', SHUTDOWN_DELAY_MS: '0', SHUTDOWN_TIMEOUT_MS: '4000' },
  });
  const agent = new Agent({ keepAliveTimeout: 60_000, keepAliveMaxTimeout: 60_000 });
  t.after(() => agent.destroy());
  const emulatorUrl = /embedded emulator at (http:\/\/\S+)/.exec(gateway.stdout())?.[1];
  assert.ok(emulatorUrl !== undefined, gateway.stdout());
  const faults = await request(`${emulatorUrl}/_emulator/faults`, {
    method: 'POST',
    body: JSON.stringify({ latencyMs: DIS_LATENCY_MS }),
  });
  await faults.body.text();
  assert.equal(faults.statusCode, 200);
  return { gateway, curl: parseCurl(findCurlCommand(gateway.stdout())), agent };
}

function send(curl: CurlRequest, agent: Agent) {
  return request(curl.url, {
    method: 'POST',
    headers: curl.headers,
    body: curl.body ?? null,
    dispatcher: agent,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
}

describe('gateway process shutdown', () => {
  it('SIGTERM while a request is in flight on a keep-alive connection: the request finishes and the process exits 0 soon after', async (t) => {
    const { gateway, curl, agent } = await slowDevGateway(t);
    const inFlight = send(curl, agent);
    await sleep(300);
    const signalled = performance.now();
    const exited = gateway.stop('SIGTERM', DIS_LATENCY_MS + 4000);

    const response = await inFlight;
    const text = await response.body.text();
    assert.equal(response.statusCode, 200, text);
    assert.equal(await exited, 0);
    t.diagnostic(`exited ${(performance.now() - signalled).toFixed(0)} ms after SIGTERM`);
  });

  it('a second SIGTERM while requests are still draining exits 1 at once', async (t) => {
    const { gateway, curl, agent } = await slowDevGateway(t);
    const inFlight = send(curl, agent).then(
      async (response) => {
        await response.body.text();
        return response.statusCode;
      },
      () => 'cut off',
    );
    await sleep(300);
    gateway.child.kill('SIGTERM');
    await sleep(200);
    assert.equal(gateway.child.exitCode, null, 'still draining after the first SIGTERM');
    const second = performance.now();
    // Well inside the DIS latency: the exit comes from the second signal, not from the drain.
    assert.equal(await gateway.stop('SIGTERM', DIS_LATENCY_MS / 2), 1);
    t.diagnostic(`exited ${(performance.now() - second).toFixed(0)} ms after the second SIGTERM`);
    assert.equal(await inFlight, 'cut off');
  });
});

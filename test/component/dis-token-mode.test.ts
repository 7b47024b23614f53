import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDisClient, type DisClient } from '../../src/dis/client.ts';
import {
  createIamTokenProvider,
  type IamUser,
  type TokenProvider,
} from '../../src/dis/token-provider.ts';
import { DEV_IAM_USERS, createEmulator, type Emulator } from '../../src/emulator/emulator.ts';
import { uniqueEntries, uniqueStreamName } from '../helpers/dis-fixtures.ts';

function devUser(): IamUser {
  const user = DEV_IAM_USERS[0];
  if (user === undefined) throw new Error('emulator has no dev IAM user');
  return user;
}

describe('IAM token mode', () => {
  let emulatorNow = Date.now();
  let emulator: Emulator;
  let stream: string;
  const opened: { close: () => Promise<void> }[] = [];

  before(async () => {
    stream = uniqueStreamName('token');
    emulator = await createEmulator({
      clock: () => emulatorNow,
      tokenTtlMs: 2 * 60 * 60 * 1000,
      streams: [{ name: stream, partitions: 2 }],
    });
  });
  after(async () => {
    await Promise.all(opened.map((o) => o.close()));
    await emulator.close();
  });

  const tokenRequests = (): number => emulator.state.stats.requests.CreateToken ?? 0;

  function tokenClient(options: { now?: () => number; password?: string } = {}): {
    client: DisClient;
    tokens: TokenProvider;
  } {
    const now = options.now ?? Date.now;
    const tokens = createIamTokenProvider({
      endpoint: emulator.url,
      user: {
        ...devUser(),
        ...(options.password === undefined ? {} : { password: options.password }),
      },
      projectId: emulator.projectId,
      now,
    });
    const client = createDisClient({
      endpoint: emulator.url,
      projectId: emulator.projectId,
      auth: { type: 'token', tokens },
      now,
      backoff: { initialDelayMs: 10, maxDelayMs: 100 },
    });
    opened.push(client, tokens);
    return { client, tokens };
  }

  it('gets one token for many concurrent calls and writes with X-Auth-Token', async () => {
    const before = tokenRequests();
    const { client } = tokenClient();
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () =>
        client.putRecords({
          streamName: stream,
          records: uniqueEntries(5),
          deadline: Date.now() + 3000,
        }),
      ),
    );
    for (const o of outcomes) assert.equal(o.failedCount, 0);
    assert.equal(tokenRequests() - before, 1, 'one in-flight token request shared by all callers');
  });

  it('refreshes ahead of expires_at once, shared by every caller', async () => {
    let clientNow = Date.now();
    const { client, tokens } = tokenClient({ now: () => clientNow });
    const before = tokenRequests();
    const first = await tokens.getToken();
    assert.equal(tokenRequests() - before, 1);
    assert.equal(await tokens.getToken(), first, 'cached');
    // The emulator issues 2 h tokens; 1 h 30 min later the token is due for its refresh (1 h ahead).
    clientNow += 90 * 60 * 1000;
    emulatorNow += 90 * 60 * 1000;
    const renewed = await Promise.all(Array.from({ length: 5 }, () => tokens.getToken()));
    assert.equal(tokenRequests() - before, 2);
    assert.equal(new Set(renewed).size, 1);
    assert.notEqual(renewed[0], first);
    const outcome = await client.putRecords({
      streamName: stream,
      records: uniqueEntries(3),
      deadline: clientNow + 3000,
    });
    assert.equal(outcome.failedCount, 0);
  });

  it('when DIS answers 401 because the token expired, fetches a new one once and the call succeeds', async () => {
    const { client } = tokenClient();
    const warm = await client.putRecords({
      streamName: stream,
      records: uniqueEntries(1),
      deadline: Date.now() + 3000,
    });
    assert.equal(warm.failedCount, 0);
    const before = tokenRequests();
    const authFailures = emulator.state.stats.authFailures;
    emulatorNow += 3 * 60 * 60 * 1000; // DIS's clock says the cached token has expired
    const outcome = await client.putRecords({
      streamName: stream,
      records: uniqueEntries(4),
      deadline: Date.now() + 3000,
    });
    assert.equal(outcome.failedCount, 0);
    assert.equal(tokenRequests() - before, 1);
    assert.equal(emulator.state.stats.authFailures - authFailures, 1);
    assert.equal(client.breakerState(), 'closed');
  });

  it('when IAM refuses the password, records fail with ERR_DIS_IAM and DIS is not called', async () => {
    const { client } = tokenClient({ password: 'wrong' });
    const puts = emulator.state.stats.requests.PutRecords ?? 0;
    const outcome = await client.putRecords({
      streamName: stream,
      records: uniqueEntries(2),
      deadline: Date.now() + 2000,
    });
    for (const v of outcome.verdicts) {
      assert.ok(v.status === 'failed');
      assert.equal(v.errorCode, 'ERR_DIS_IAM');
      assert.equal(v.retryable, true);
    }
    assert.equal(emulator.state.stats.requests.PutRecords ?? 0, puts);
  });
});

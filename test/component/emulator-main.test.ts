import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { signedRequest } from '../helpers/signed-request.ts';

const MAIN = fileURLToPath(new URL('../../src/emulator/main.ts', import.meta.url));

function run(env: Record<string, string>) {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const url = /listening on (http:\/\/\S+)/.exec(stdout)?.[1];
      if (url !== undefined && stdout.includes('admin API')) resolve(url);
    });
    child.once('exit', () => {
      reject(new Error(`exited before listening:\n${stdout}${stderr}`));
    });
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return { child, ready, exited, output: () => ({ stdout, stderr }) };
}

describe('standalone emulator (npm run emulator)', () => {
  it('when started with env settings, it prints where it listens without the SK and stops cleanly on SIGTERM', async () => {
    const sk = 'main-test-secret-key';
    const proc = run({
      EMULATOR_PORT: '0',
      EMULATOR_AK: 'MAINTESTAK',
      EMULATOR_SK: sk,
      EMULATOR_STREAMS: 'main-s:2',
    });
    const url = await proc.ready;
    const res = await signedRequest(`${url}/v2/0123456789abcdef0123456789abcdef/streams/main-s`, {
      credentials: { ak: 'MAINTESTAK', sk },
      date: new Date(),
    });
    assert.equal(res.status, 200);
    proc.child.kill('SIGTERM');
    assert.equal(await proc.exited, 0);
    const { stdout } = proc.output();
    assert.match(stdout, /MAINTESTAK/);
    assert.match(stdout, /\/_emulator\/faults/);
    assert.equal(stdout.includes(sk), false);
  });

  it('when the env is invalid, it lists the problems and exits 1', async () => {
    const proc = run({ EMULATOR_PORT: 'nope', EMULATOR_STREAMS: 'x:0' });
    proc.ready.catch(() => undefined);
    assert.equal(await proc.exited, 1);
    assert.match(proc.output().stderr, /EMULATOR_PORT[\s\S]*"x:0"/);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_PROJECT_ID, DEV_CREDENTIALS } from '../../src/emulator/emulator.ts';
import { DEFAULT_EMULATOR_PORT, parseEmulatorEnv } from '../../src/emulator/env.ts';
import { filesFrom } from '../helpers/config-results.ts';

describe('parseEmulatorEnv', () => {
  it('when nothing is set, it uses the loopback defaults and the dev credentials', () => {
    assert.deepEqual(parseEmulatorEnv({}), {
      ok: true,
      config: {
        host: '127.0.0.1',
        port: DEFAULT_EMULATOR_PORT,
        region: 'cn-north-4',
        projectId: DEFAULT_PROJECT_ID,
        credentials: DEV_CREDENTIALS,
        streams: [],
      },
    });
  });

  it('when everything is set, it reads every variable', () => {
    const result = parseEmulatorEnv({
      EMULATOR_HOST: '0.0.0.0',
      EMULATOR_PORT: '0',
      EMULATOR_REGION: 'ap-southeast-1',
      EMULATOR_PROJECT_ID: 'ffffffffffffffffffffffffffffffff',
      EMULATOR_AK: 'MYAK123',
      EMULATOR_SK: 'my-secret',
      EMULATOR_STREAMS: 'dis-clicks:2, dis-orders:1:ADVANCED',
    });
    assert.deepEqual(result, {
      ok: true,
      config: {
        host: '0.0.0.0',
        port: 0,
        region: 'ap-southeast-1',
        projectId: 'ffffffffffffffffffffffffffffffff',
        credentials: [{ ak: 'MYAK123', sk: 'my-secret' }],
        streams: [
          { name: 'dis-clicks', partitions: 2, type: 'COMMON' },
          { name: 'dis-orders', partitions: 1, type: 'ADVANCED' },
        ],
      },
    });
  });

  it('when several settings are wrong, it lists every problem at once', () => {
    const result = parseEmulatorEnv({
      EMULATOR_PORT: '70000',
      EMULATOR_REGION: 'CN North',
      EMULATOR_PROJECT_ID: 'short',
      EMULATOR_AK: 'only-ak!',
      EMULATOR_STREAMS: 'ok:1,bad name:1,zero:0,typed:1:FAST,ok:2,a:1:COMMON:x',
    });
    assert.equal(result.ok, false);
    const text = result.problems.join('\n');
    for (const fragment of [
      'EMULATOR_PORT',
      'EMULATOR_REGION',
      'EMULATOR_PROJECT_ID',
      'set together',
      'EMULATOR_AK must be',
      '"bad name:1"',
      '"zero:0"',
      '"typed:1:FAST"',
      'duplicate',
      '"a:1:COMMON:x"',
    ]) {
      assert.ok(text.includes(fragment), `missing ${fragment} in\n${text}`);
    }
    assert.equal(result.problems.length, 10);
  });
  it('when EMULATOR_SK_FILE names a file, the SK is read from it without its trailing newline', () => {
    const result = parseEmulatorEnv(
      { EMULATOR_AK: 'MYAK123', EMULATOR_SK_FILE: '/run/secrets/emulator-sk' },
      filesFrom({ '/run/secrets/emulator-sk': 'sk-from-a-file\n' }),
    );
    assert.ok(result.ok);
    assert.deepEqual(result.config.credentials, [{ ak: 'MYAK123', sk: 'sk-from-a-file' }]);
  });

  it('when the SK file is missing or empty, or both EMULATOR_SK and the file are set, it says so without the value', () => {
    const files = filesFrom({ '/empty': '\n' });
    const problemsOf = (env: Readonly<Record<string, string>>): readonly string[] => {
      const result = parseEmulatorEnv({ EMULATOR_AK: 'MYAK123', ...env }, files);
      if (result.ok) assert.fail('expected problems');
      return result.problems;
    };
    assert.deepEqual(problemsOf({ EMULATOR_SK_FILE: '/nope' }), [
      'EMULATOR_SK_FILE: cannot read /nope (ENOENT)',
    ]);
    assert.deepEqual(problemsOf({ EMULATOR_SK_FILE: '/empty' }), [
      'EMULATOR_SK_FILE: /empty is empty',
    ]);
    assert.deepEqual(problemsOf({ EMULATOR_SK: 'secret-in-env', EMULATOR_SK_FILE: '/empty' }), [
      'EMULATOR_SK and EMULATOR_SK_FILE are both set; set only one',
    ]);
  });
});

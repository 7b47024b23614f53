import assert from 'node:assert/strict';
import type { LoadConfigResult } from '../../src/config/load-config.ts';
import type { Config } from '../../src/config/types.ts';

/** A readFile over an in-memory map that fails like fs does for anything else. */
export function filesFrom(files: Readonly<Record<string, string>>): (path: string) => string {
  return (path) => {
    const text = files[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return text;
  };
}

export function expectConfig(result: LoadConfigResult): Config {
  if (!result.ok) assert.fail(`expected a config, got problems:\n${result.problems.join('\n')}`);
  return result.config;
}

export function expectProblems(result: LoadConfigResult): string[] {
  if (result.ok) assert.fail('expected problems, got a config');
  return result.problems;
}

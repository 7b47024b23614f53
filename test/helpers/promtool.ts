import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** promtool's path on PATH (scripts/toolchain.sh puts one there), or undefined. */
export function findPromtool(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'promtool');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export const NO_PROMTOOL = 'promtool is not on PATH (. scripts/toolchain.sh fetches it)';

export function runPromtool(
  promtool: string,
  args: readonly string[],
  input?: string,
): { status: number | null; output: string } {
  const result = spawnSync(promtool, args, { input, encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

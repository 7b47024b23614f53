import { formatProblems, loadConfig } from './load-config.ts';
import { redactConfig } from './redact.ts';
import type { Env } from './env-overrides.ts';
import type { ReadFile } from './secrets.ts';

/**
 * `config:check`: validates the configuration the process would start with and prints either the
 * effective config with secrets redacted (exit code 0; warnings first) or every problem (1).
 */
export function runConfigCheck(
  env: Env,
  readFile: ReadFile,
  write: (line: string) => void,
): number {
  const result = loadConfig(env, readFile);
  if (!result.ok) {
    for (const line of formatProblems(result.problems).split('\n')) write(line);
    return 1;
  }
  for (const warning of result.warnings) write(`warning: ${warning}`);
  const mode = result.config.production ? 'production' : 'development';
  write(`The configuration is valid (${mode}). Effective configuration, secrets redacted:`);
  for (const line of JSON.stringify(redactConfig(result.config), null, 2).split('\n')) write(line);
  return 0;
}

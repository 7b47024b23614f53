import type { Env } from './env-overrides.ts';
import type { SecretReader } from './secrets.ts';

// What each section builder gets: the mode, the secret reader and where to put findings.

export interface BuildContext {
  readonly production: boolean;
  readonly env: Env;
  readonly secrets: SecretReader;
  readonly problems: string[];
  readonly warnings: string[];
}

/**
 * The wording of every "missing setting" problem: what is missing, the env vars and the file keys
 * that can supply it, so an operator can fix it either way.
 */
export function missingSetting(
  what: string,
  envVars: readonly string[],
  fileKeys: readonly string[],
): string {
  return `missing ${what}: set ${envVars.join(' or ')}, or ${fileKeys.join(' or ')} in the config file`;
}

/** Two ways of giving the same secret in the file is a mistake, not a precedence question. */
export function checkOneOf(
  context: BuildContext,
  at: string,
  keys: Readonly<Record<string, unknown>>,
): void {
  const given = Object.entries(keys).filter(([, value]) => value !== undefined);
  if (given.length > 1) {
    context.problems.push(
      `${at}: give only one of ${given.map(([key]) => `${at}.${key}`).join(', ')}`,
    );
  }
}

/** `{ key: value }` when value is defined, `{}` otherwise: optional fields under exactOptionalPropertyTypes. */
export function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  if (value === undefined) return {};
  const entry: { [P in K]?: V } = {};
  entry[key] = value;
  return entry;
}

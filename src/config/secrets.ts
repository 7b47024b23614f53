import type { Env } from './env-overrides.ts';
import { isPlaceholder } from './placeholders.ts';

/** One transform's view of the deps, with its findings going to its own parse context. */
export interface Scope {
  readonly production: boolean;
  readonly env: Env;
  readonly secrets: SecretReader;
  /** A whole sentence, printed as it is; it fails the load and must never hold a secret value. */
  readonly problem: (message: string) => void;
  readonly warning: (message: string) => void;
}

// Secrets come from an env var NAME or from the file named by NAME_FILE (Docker/Kubernetes secrets),
// or from a file path the config names. The environment and the file reader are injected: nothing
// here touches process.env or the file system. Values are never echoed in a problem.

export type ReadFile = (path: string) => string;

export type SecretResult =
  | { readonly kind: 'value'; readonly value: string }
  | { readonly kind: 'absent' }
  /** A problem was already reported; the caller must not add a "missing" one on top. */
  | { readonly kind: 'failed' };

/** Where one secret may come from, in precedence order. */
export interface SecretSpec {
  /** The conventional variable (e.g. DIS_SK, also read as DIS_SK_FILE); it overrides the file. */
  readonly envVar?: string;
  /** `*_env` from the config file: the variable it names, and the key for messages. */
  readonly envRef?: { readonly key: string; readonly name: string | undefined };
  /** `*_file` from the config file. */
  readonly fileRef?: { readonly key: string; readonly path: string | undefined };
}

export interface SecretReader {
  /** NAME or NAME_FILE. */
  readonly fromEnv: (name: string) => SecretResult;
  readonly fromFile: (path: string, label: string) => SecretResult;
  readonly resolve: (spec: SecretSpec, onMissingRef?: (message: string) => void) => SecretResult;
}

/** Secret file contents lose their trailing newline(s); `echo x > file` is the common way to make one. */
function trimTrailingNewlines(text: string): string {
  return text.replace(/[\r\n]+$/, '');
}

export function describeReadError(error: unknown): string {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string')
    return error.code;
  return 'unreadable';
}

export function createSecretReader(
  env: Env,
  readFile: ReadFile,
  problem: (message: string) => void,
  /** A secret that is still a template's placeholder; told where it came from, never its value. */
  placeholder: (where: string) => void = () => {},
): SecretReader {
  const fromFile = (path: string, label: string): SecretResult => {
    let text: string;
    try {
      text = readFile(path);
    } catch (error) {
      problem(`${label}: cannot read ${path} (${describeReadError(error)})`);
      return { kind: 'failed' };
    }
    const value = trimTrailingNewlines(text);
    if (value.trim() === '') {
      problem(`${label}: ${path} is empty`);
      return { kind: 'failed' };
    }
    if (isPlaceholder(value)) placeholder(`${label} (${path})`);
    return { kind: 'value', value };
  };

  const fromEnv = (name: string): SecretResult => {
    const direct = env[name];
    const path = env[`${name}_FILE`]?.trim();
    const hasDirect = direct !== undefined && direct.trim() !== '';
    const hasPath = path !== undefined && path !== '';
    if (hasDirect && hasPath) {
      problem(`${name} and ${name}_FILE are both set; set only one`);
      return { kind: 'failed' };
    }
    if (hasDirect) {
      if (isPlaceholder(direct)) placeholder(name);
      return { kind: 'value', value: trimTrailingNewlines(direct) };
    }
    if (hasPath) return fromFile(path, `${name}_FILE`);
    return { kind: 'absent' };
  };

  const resolve = (spec: SecretSpec, onMissingRef = problem): SecretResult => {
    if (spec.envVar !== undefined) {
      const result = fromEnv(spec.envVar);
      if (result.kind !== 'absent') return result;
    }
    const { envRef, fileRef } = spec;
    if (envRef?.name !== undefined && envRef.name !== spec.envVar) {
      const result = fromEnv(envRef.name);
      if (result.kind !== 'absent') return result;
      onMissingRef(
        `${envRef.key} names ${envRef.name}, which is not set (nor ${envRef.name}_FILE)`,
      );
      return { kind: 'failed' };
    }
    if (fileRef?.path !== undefined) return fromFile(fileRef.path, fileRef.key);
    return { kind: 'absent' };
  };

  return { fromEnv, fromFile, resolve };
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
  scope: Scope,
  at: string,
  keys: Readonly<Record<string, unknown>>,
): void {
  const given = Object.entries(keys).filter(([, value]) => value !== undefined);
  if (given.length > 1)
    scope.problem(`${at}: give only one of ${given.map(([key]) => `${at}.${key}`).join(', ')}`);
}

/** The `secret_env` / `secrets_env` / `secret_file` / `secret_files` keys of a section. */
export interface SecretListRefs {
  readonly secretEnv?: string | undefined;
  readonly secretsEnv?: readonly string[] | undefined;
  readonly secretFile?: string | undefined;
  readonly secretFiles?: readonly string[] | undefined;
}

/** Every secret a section names, in order; `failed` when any reference could not be resolved. */
export function resolveSecretList(
  reader: SecretReader,
  at: string,
  refs: SecretListRefs,
  onMissingRef?: (message: string) => void,
): { readonly values: string[]; readonly failed: boolean } {
  const values: string[] = [];
  let failed = false;
  const take = (result: SecretResult): void => {
    if (result.kind === 'value') values.push(result.value);
    else if (result.kind === 'failed') failed = true;
  };
  const names = [
    ...(refs.secretEnv === undefined ? [] : [{ key: `${at}.secret_env`, name: refs.secretEnv }]),
    ...(refs.secretsEnv ?? []).map((name, i) => ({ key: `${at}.secrets_env[${i}]`, name })),
  ];
  for (const envRef of names) take(reader.resolve({ envRef }, onMissingRef));
  const paths = [
    ...(refs.secretFile === undefined ? [] : [{ key: `${at}.secret_file`, path: refs.secretFile }]),
    ...(refs.secretFiles ?? []).map((path, i) => ({ key: `${at}.secret_files[${i}]`, path })),
  ];
  for (const fileRef of paths) take(reader.resolve({ fileRef }));
  return { values, failed };
}

import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import {
  applyEnvOverrides,
  describePath,
  envValue,
  formatPath,
  isRecord,
  type Env,
  type Findings,
} from './env-overrides.ts';
import { PLACEHOLDER_HINT, findPlaceholders } from './placeholders.ts';
import { CONFIG_SECTIONS, SENTENCE, configSchema, linkSections } from './schema.ts';
import { describeReadError, type ReadFile } from './secrets.ts';
import type { Config } from './types.ts';

// Reading the file named by GATEWAY_CONFIG (YAML or JSON, and no secret in it), the environment over
// it, then the schema. Parser messages are reduced to a position: some quote the offending text,
// which may be a secret.

export type LoadConfigResult =
  | { readonly ok: true; readonly config: Config; readonly warnings: string[] }
  | { readonly ok: false; readonly problems: string[] };

type ParsedFile =
  | { readonly ok: true; readonly document: Record<string, unknown> }
  | { readonly ok: false; readonly problems: readonly string[] };

function looksLikeJson(path: string, text: string): boolean {
  if (/\.json$/i.test(path)) return true;
  if (/\.ya?ml$/i.test(path)) return false;
  return text.trimStart().startsWith('{');
}

function parseJson(where: string, text: string): ParsedFile {
  try {
    const value: unknown = JSON.parse(text);
    if (!isRecord(value))
      return { ok: false, problems: [`${where}: the top level must be an object`] };
    return { ok: true, document: value };
  } catch (error) {
    const message = error instanceof Error ? error.message : '';
    const at = /line \d+ column \d+/.exec(message)?.[0] ?? /position \d+/.exec(message)?.[0];
    return {
      ok: false,
      problems: [`${where}: invalid JSON${at === undefined ? '' : ` at ${at}`}`],
    };
  }
}

function parseYaml(where: string, text: string): ParsedFile {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  if (document.errors.length > 0) {
    return {
      ok: false,
      problems: document.errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        return `${where}: invalid YAML at line ${line} column ${col}: ${error.message}`;
      }),
    };
  }
  const value: unknown = document.toJS({ maxAliasCount: 100 });
  if (value === null || value === undefined) return { ok: true, document: {} };
  if (!isRecord(value))
    return { ok: false, problems: [`${where}: the top level must be a mapping`] };
  return { ok: true, document: value };
}

/** YAML by `.yaml`/`.yml`, JSON by `.json`; otherwise JSON when the text starts with `{`. */
function parseConfigText(path: string, text: string): ParsedFile {
  const where = `GATEWAY_CONFIG file ${path}`;
  return looksLikeJson(path, text) ? parseJson(where, text) : parseYaml(where, text);
}

/** Maps whose keys are names chosen by the operator, not settings: never checked or converted. */
const NAME_MAPS = ['streams', 'webhooks.sources', 'limits.principals', 'frontdoor.clients'];

/** Keys named like secrets that hold ids: a front-door client's AK is public, its SK is not. */
const PUBLIC_KEY_PATHS = /^frontdoor\.clients\.[^.]+\.ak$/;

const SECRET_KEYS: Readonly<Record<string, string>> = {
  ak: 'ak_env or ak_file',
  sk: 'sk_env or sk_file',
  security_token: 'security_token_env or security_token_file',
  password: 'password_env or password_file',
  sentinel_password: 'sentinel_password_env or sentinel_password_file',
  secret: 'secret_env or secret_file',
  secrets: 'secrets_env or secret_files',
};
const OTHER_SECRET_KEY =
  /^(token|private_key|client_secret|api_key|access_key|secret_key|jwt_secret|webhook_secret)$/;

function withoutSecrets(
  value: unknown,
  path: readonly PropertyKey[],
  problems: string[],
  keysAreNames: boolean,
): unknown {
  if (Array.isArray(value))
    return value.map((item, index) => withoutSecrets(item, [...path, index], problems, false));
  if (!isRecord(value)) return value;
  const kept: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const childPath = [...path, key];
    const hint =
      keysAreNames || PUBLIC_KEY_PATHS.test(formatPath(childPath))
        ? undefined
        : (SECRET_KEYS[key] ??
          (OTHER_SECRET_KEY.test(key) ? 'an *_env name or a *_file path' : undefined));
    if (hint !== undefined) {
      problems.push(
        `${formatPath(childPath)}: secrets must not be written in the config file; name them with ${hint}`,
      );
      continue;
    }
    kept[key] = withoutSecrets(
      child,
      childPath,
      problems,
      NAME_MAPS.includes(formatPath(childPath)),
    );
  }
  return kept;
}

/**
 * Finds secrets written literally in the file (reported without their value) and returns the
 * document without them, so the schema does not report them a second time as unknown keys.
 */
function extractLiteralSecrets(
  document: Record<string, unknown>,
  problems: string[],
): Record<string, unknown> {
  const cleaned = withoutSecrets(document, [], problems, false);
  const redis = isRecord(cleaned) ? cleaned.redis : undefined;
  if (isRecord(redis) && typeof redis.url === 'string' && URL.canParse(redis.url)) {
    if (new URL(redis.url).password !== '') {
      problems.push(
        'redis.url: holds a password; name it with redis.password_env or redis.password_file, or set the whole URL in REDIS_URL',
      );
    }
  }
  return isRecord(cleaned) ? cleaned : {};
}

function readConfigFile(
  path: string,
  readFile: ReadFile,
  problems: string[],
): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    problems.push(`GATEWAY_CONFIG: cannot read ${path} (${describeReadError(error)})`);
    return undefined;
  }
  const parsed = parseConfigText(path, text);
  if (!parsed.ok) {
    problems.push(...parsed.problems);
    return undefined;
  }
  return extractLiteralSecrets(parsed.document, problems);
}

// File keys are the schema's keys in snake_case: `trust_proxy` ↔ `trustProxy`. A key that is not
// snake_case is never a setting; it gets a `$` so that it cannot become one (`trustProxy` in the
// file is an unknown key) and loses it again in messages.
const SNAKE_KEY = /^[a-z][a-z0-9]*(_[a-z][a-z0-9]*)*$/;

function toSchemaKey(key: string): string {
  return SNAKE_KEY.test(key)
    ? key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())
    : `$${key}`;
}

function toFileKey(key: string): string {
  return key.startsWith('$') ? key.slice(1) : key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function toSchemaKeys(value: unknown, path: readonly string[]): unknown {
  if (Array.isArray(value)) return value.map((item) => toSchemaKeys(item, []));
  if (!isRecord(value)) return value;
  const keysAreNames = NAME_MAPS.includes(formatPath(path));
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => [
      keysAreNames ? key : toSchemaKey(key),
      toSchemaKeys(child, [...path, key]),
    ]),
  );
}

/** A schema path (camelCase keys) as the file path an operator wrote. */
function toFilePath(path: readonly PropertyKey[]): PropertyKey[] {
  const filePath: PropertyKey[] = [];
  for (const part of path) {
    const isName = NAME_MAPS.includes(formatPath(filePath));
    filePath.push(typeof part === 'string' && !isName ? toFileKey(part) : part);
  }
  return filePath;
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_key')
    return `invalid name: ${issue.issues.map((inner) => inner.message).join('; ')}`;
  if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message))
    return 'is required';
  return issue.message;
}

function isSentence(issue: z.core.$ZodIssue): boolean {
  return issue.code === 'custom' && issue.params?.sentence === SENTENCE.sentence;
}

function describeIssue(issue: z.core.$ZodIssue, origins: ReadonlyMap<string, string>): string[] {
  if (isSentence(issue)) return [issue.message];
  const path = toFilePath(issue.path);
  // Unknown keys are reported on the key itself so the path points at the typo.
  if (issue.code === 'unrecognized_keys')
    return issue.keys.map(
      (key) => `${describePath([...path, toFileKey(key)], origins)}: unknown key`,
    );
  return [`${describePath(path, origins)}: ${issueMessage(issue)}`];
}

/** Every problem on its own line, ready for stderr; the loader never puts a secret value in one. */
export function formatProblems(problems: readonly string[]): string {
  const heading =
    problems.length === 1
      ? 'The configuration has 1 problem:'
      : `The configuration has ${problems.length} problems:`;
  return [heading, ...problems.map((problem) => `  - ${problem}`)].join('\n');
}

function isSection(key: string): boolean {
  return CONFIG_SECTIONS.some((section) => section === key);
}

/**
 * The effective configuration from the environment and the file named by GATEWAY_CONFIG. Pure: the
 * environment and file access are injected. Lists every problem it can find in one pass; a config
 * is returned only when there is none.
 */
export function loadConfig(env: Env, readFile: ReadFile): LoadConfigResult {
  const findings: Findings = { problems: [], warnings: [] };
  const { problems, warnings } = findings;
  const production = envValue(env, 'NODE_ENV') === 'production';

  const path = envValue(env, 'GATEWAY_CONFIG');
  const fileDocument = path === undefined ? {} : readConfigFile(path, readFile, problems);
  const { document, origins } = applyEnvOverrides(fileDocument ?? {}, env, findings);
  const sections: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(document)) {
    if (isSection(key)) sections[key] = value;
    else problems.push(`${key}: unknown section (expected ${CONFIG_SECTIONS.join(', ')})`);
  }
  const input = toSchemaKeys(sections, []);
  const links = linkSections(isRecord(input) ? input : {}, production);
  const schema = configSchema({
    production,
    env,
    readFile,
    warning: (message) => {
      warnings.push(message);
    },
    links,
  });
  const result = schema.safeParse(input);
  // What the values themselves get wrong comes first, then what the sections' transforms find
  // missing or inconsistent. A file that could not be read says nothing about what is missing from
  // it: then only the values the environment gave are checked.
  const issues = result.error?.issues ?? [];
  const sentences = fileDocument === undefined ? [] : issues.filter(isSentence);
  for (const issue of [...issues.filter((i) => !isSentence(i)), ...sentences])
    problems.push(...describeIssue(issue, origins));
  // The values of the file and the environment; secrets are checked as they are read (schema.ts).
  for (const at of findPlaceholders(document)) {
    const message = `${describePath(at, origins)}: ${PLACEHOLDER_HINT}`;
    if (production) problems.push(message);
    else warnings.push(message);
  }
  if (!result.success || problems.length > 0)
    return { ok: false, problems: problems.length > 0 ? problems : ['configuration incomplete'] };
  return { ok: true, config: result.data, warnings };
}

import { LineCounter, parseDocument } from 'yaml';
import { formatPath, isRecord } from './problems.ts';

// Reading the file named by GATEWAY_CONFIG: YAML or JSON, and a check that it holds no secret.
// Parser messages are reduced to a position: some quote the offending text, which may be a secret.

export type ParsedFile =
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
export function parseConfigText(path: string, text: string): ParsedFile {
  const where = `GATEWAY_CONFIG file ${path}`;
  return looksLikeJson(path, text) ? parseJson(where, text) : parseYaml(where, text);
}

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

/** Maps whose keys are names chosen by the operator, not settings. */
const NAME_MAPS = ['streams', 'webhooks.sources', 'limits.principals'];

function walk(
  value: unknown,
  path: readonly PropertyKey[],
  problems: string[],
  keysAreNames: boolean,
): unknown {
  if (Array.isArray(value)) {
    return value.map((item, index) => walk(item, [...path, index], problems, false));
  }
  if (!isRecord(value)) return value;
  const kept: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const childPath = [...path, key];
    const hint = keysAreNames
      ? undefined
      : (SECRET_KEYS[key] ??
        (OTHER_SECRET_KEY.test(key) ? 'an *_env name or a *_file path' : undefined));
    if (hint !== undefined) {
      problems.push(
        `${formatPath(childPath)}: secrets must not be written in the config file; name them with ${hint}`,
      );
      continue;
    }
    kept[key] = walk(child, childPath, problems, NAME_MAPS.includes(formatPath(childPath)));
  }
  return kept;
}

/**
 * Finds secrets written literally in the file (reported without their value) and returns the
 * document without them, so the schema does not report them a second time as unknown keys.
 */
export function extractLiteralSecrets(document: Record<string, unknown>): {
  readonly problems: readonly string[];
  readonly document: Record<string, unknown>;
} {
  const problems: string[] = [];
  const cleaned = walk(document, [], problems, false);
  const redis = isRecord(cleaned) ? cleaned.redis : undefined;
  if (isRecord(redis) && typeof redis.url === 'string' && URL.canParse(redis.url)) {
    if (new URL(redis.url).password !== '') {
      problems.push(
        'redis.url: holds a password; name it with redis.password_env or redis.password_file, or set the whole URL in REDIS_URL',
      );
    }
  }
  return { problems, document: isRecord(cleaned) ? cleaned : {} };
}

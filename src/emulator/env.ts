import { STREAM_NAME } from '../dis/wire.ts';
import type { StreamType } from '../dis/wire.ts';
import type { EmulatorCredential } from './auth.ts';
import { DEFAULT_PROJECT_ID, DEFAULT_REGION, DEV_CREDENTIALS } from './emulator.ts';

export const DEFAULT_EMULATOR_PORT = 8090;

export interface EmulatorEnvConfig {
  readonly host: string;
  readonly port: number;
  readonly region: string;
  readonly projectId: string;
  readonly credentials: readonly EmulatorCredential[];
  readonly streams: readonly { name: string; partitions: number; type: StreamType }[];
}

export type EmulatorEnvResult =
  | { readonly ok: true; readonly config: EmulatorEnvConfig }
  | { readonly ok: false; readonly problems: readonly string[] };

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

function parseStreams(raw: string, problems: string[]): EmulatorEnvConfig['streams'] {
  const streams: { name: string; partitions: number; type: StreamType }[] = [];
  for (const item of raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')) {
    const [name = '', count = '', type = 'COMMON', ...extra] = item.split(':');
    const partitions = /^\d{1,4}$/.test(count) ? Number(count) : Number.NaN;
    const where = `EMULATOR_STREAMS entry "${item}"`;
    if (extra.length > 0) problems.push(`${where}: expected name:partitions[:type]`);
    else if (!STREAM_NAME.test(name))
      problems.push(`${where}: name must match ${String(STREAM_NAME)}`);
    else if (!(partitions >= 1 && partitions <= 1000))
      problems.push(`${where}: partitions must be 1..1000`);
    else if (type !== 'COMMON' && type !== 'ADVANCED')
      problems.push(`${where}: type must be COMMON or ADVANCED`);
    else if (streams.some((s) => s.name === name)) problems.push(`${where}: duplicate stream name`);
    else streams.push({ name, partitions, type });
  }
  return streams;
}

export type ReadFile = (path: string) => string;

const noFiles: ReadFile = (path) => {
  throw Object.assign(new Error(`no file reader for ${path}`), { code: 'ENOENT' });
};

function describeReadError(error: unknown): string {
  return error instanceof Error && 'code' in error && typeof error.code === 'string'
    ? error.code
    : 'unreadable';
}

/**
 * EMULATOR_SK, or the file named by EMULATOR_SK_FILE (a compose or Kubernetes secret), so the SK
 * need not sit in the environment. A file loses its trailing newlines only, as the gateway's own
 * secret files do: the same file must give both sides the same key.
 */
function readSk(
  env: Readonly<Record<string, string | undefined>>,
  readFile: ReadFile,
  problems: string[],
): string | undefined {
  const direct = nonEmpty(env.EMULATOR_SK);
  const path = nonEmpty(env.EMULATOR_SK_FILE);
  if (path === undefined) return direct;
  if (direct !== undefined) {
    problems.push('EMULATOR_SK and EMULATOR_SK_FILE are both set; set only one');
    return undefined;
  }
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    problems.push(`EMULATOR_SK_FILE: cannot read ${path} (${describeReadError(error)})`);
    return undefined;
  }
  const sk = text.replace(/[\r\n]+$/, '');
  if (sk.trim() === '') {
    problems.push(`EMULATOR_SK_FILE: ${path} is empty`);
    return undefined;
  }
  return sk;
}

/**
 * Reads the standalone emulator's settings; pure, so tests pass a plain object (and a file reader
 * for EMULATOR_SK_FILE). Lists every problem.
 */
export function parseEmulatorEnv(
  env: Readonly<Record<string, string | undefined>>,
  readFile: ReadFile = noFiles,
): EmulatorEnvResult {
  const problems: string[] = [];
  const host = nonEmpty(env.EMULATOR_HOST) ?? '127.0.0.1';
  const rawPort = nonEmpty(env.EMULATOR_PORT);
  const port =
    rawPort === undefined
      ? DEFAULT_EMULATOR_PORT
      : /^\d{1,5}$/.test(rawPort)
        ? Number(rawPort)
        : Number.NaN;
  if (!(port >= 0 && port <= 65535))
    problems.push(`EMULATOR_PORT must be 0..65535, got "${rawPort ?? ''}"`);
  const region = nonEmpty(env.EMULATOR_REGION) ?? DEFAULT_REGION;
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(region))
    problems.push(`EMULATOR_REGION "${region}" is not a region id like cn-north-4`);
  const projectId = nonEmpty(env.EMULATOR_PROJECT_ID) ?? DEFAULT_PROJECT_ID;
  if (!/^[0-9a-f]{32}$/.test(projectId))
    problems.push('EMULATOR_PROJECT_ID must be 32 lowercase hex characters');
  const ak = nonEmpty(env.EMULATOR_AK);
  const skProblems = problems.length;
  const sk = readSk(env, readFile, problems);
  if (problems.length === skProblems && (ak === undefined) !== (sk === undefined))
    problems.push('EMULATOR_AK and EMULATOR_SK (or EMULATOR_SK_FILE) must be set together');
  if (ak !== undefined && !/^[A-Za-z0-9]+$/.test(ak))
    problems.push('EMULATOR_AK must be letters and digits');
  const streams = parseStreams(env.EMULATOR_STREAMS ?? '', problems);
  if (problems.length > 0) return { ok: false, problems };
  const credentials = ak !== undefined && sk !== undefined ? [{ ak, sk }] : DEV_CREDENTIALS;
  return { ok: true, config: { host, port, region, projectId, credentials, streams } };
}

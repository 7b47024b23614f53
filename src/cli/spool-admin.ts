import type { Env } from '../config/env-overrides.ts';
import { CodedError } from '../errors/coded-error.ts';
import { formatProblems, loadConfig } from '../config/load-config.ts';
import type { ReadFile } from '../config/secrets.ts';
import type { Config } from '../config/types.ts';

// What the `dead-letters` and `spool-consumers` commands need of the spool, stated here because
// cli/ does not import spool/ (eslint.config.js, layers): src/compose-spool-admin.ts builds it from
// spool/dead-letters.ts and spool/consumers.ts, and main.ts hands it to the commands.

export interface DeadLetterView {
  readonly id: string;
  readonly disStream: string;
  readonly failedAt: string;
  readonly entryId: string;
  readonly errorCode: string;
  readonly errorMessage: string;
  readonly receiptId: string | undefined;
  readonly index: number | undefined;
  readonly dataBytes: number;
  readonly data: Buffer;
  readonly partitionKey: string | undefined;
  readonly partitionId: string | undefined;
  readonly explicitHashKey: string | undefined;
}

export type ReplayOutcome =
  | { readonly status: 'replayed'; readonly spoolEntryId: string }
  | { readonly status: 'missing' | 'full' | 'damaged' };

export interface DeadLetterPort {
  count(disStream: string): Promise<number>;
  list(
    disStream: string,
    limit: number,
    range?: { readonly after?: string; readonly through?: string },
  ): Promise<DeadLetterView[]>;
  get(disStream: string, id: string): Promise<DeadLetterView | undefined>;
  lastId(disStream: string): Promise<string | undefined>;
  replay(disStream: string, id: string): Promise<ReplayOutcome>;
  drop(disStream: string, id: string): Promise<boolean>;
  dropThrough(disStream: string, lastId: string): Promise<number>;
}

export interface ConsumerView {
  readonly name: string;
  readonly pending: number;
  readonly idleMs: number;
}

export type PruneOutcome =
  | { readonly status: 'deleted'; readonly requeued: number }
  | { readonly status: 'missing' }
  | { readonly status: 'active'; readonly idleMs: number }
  | { readonly status: 'holding'; readonly pending: number };

export interface ConsumerPort {
  list(disStream: string): Promise<ConsumerView[]>;
  prune(
    disStream: string,
    name: string,
    options: { readonly minIdleMs: number; readonly force: boolean },
  ): Promise<PruneOutcome>;
}

export interface SpoolAdmin {
  readonly deadLetters: DeadLetterPort;
  readonly consumers: ConsumerPort;
  close(): Promise<void>;
}

export interface SpoolAdminIo {
  readonly env: Env;
  /** Reads the file GATEWAY_CONFIG names and the secret files it or the environment names. */
  readonly readFile: ReadFile;
  /** stdout: the results. */
  readonly write: (line: string) => void;
  /** stderr: usage, configuration problems, the one-line error. */
  readonly warn: (line: string) => void;
  /** Connects to the configured Redis (rejects with a message when it cannot). */
  readonly openSpool: (config: Config) => Promise<SpoolAdmin>;
}

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

/** Thrown inside a command for "this cannot be done" (exit 1, one line). */
export class CommandError extends CodedError<'ERR_CLI_COMMAND'> {
  constructor(message: string) {
    super('ERR_CLI_COMMAND', message);
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The DIS streams the spool has keys for: one per distinct `disStream` of the configured streams. */
export function spoolStreams(config: Config, wanted: string | undefined): string[] {
  const streams = Object.entries(config.streams);
  const all = [...new Set(streams.map(([, s]) => s.disStream))];
  if (wanted === undefined) return all;
  // A logical name (as callers use it) or the DIS stream name itself.
  const logical = config.streams[wanted];
  if (logical !== undefined) return [logical.disStream];
  if (all.includes(wanted)) return [wanted];
  const known = streams.map(([name, s]) => `${name} (DIS ${s.disStream})`).join(', ') || 'none';
  throw new CommandError(`no stream "${wanted}" in the configuration (configured: ${known})`);
}

/**
 * Loads the configuration as the gateway does, picks the streams (`--stream`), opens the spool,
 * runs `work` and closes it. Config problems, an unknown stream, Redis trouble and CommandErrors
 * become one line on stderr (the config's problems below it) and exit code 1.
 */
export async function withSpool(
  command: string,
  io: SpoolAdminIo,
  stream: string | undefined,
  work: (admin: SpoolAdmin, streams: readonly string[]) => Promise<number>,
): Promise<number> {
  const loaded = loadConfig(io.env, io.readFile);
  if (!loaded.ok) {
    io.warn(`dis-gateway ${command}: invalid configuration\n${formatProblems(loaded.problems)}`);
    return EXIT_ERROR;
  }
  let admin: SpoolAdmin | undefined;
  try {
    const streams = spoolStreams(loaded.config, stream);
    admin = await io.openSpool(loaded.config);
    return await work(admin, streams);
  } catch (error) {
    io.warn(`dis-gateway ${command}: ${messageOf(error)}`);
    return EXIT_ERROR;
  } finally {
    await admin?.close().catch(() => undefined);
  }
}

/** What a spool command's flag parser says: flags, a usage error, or a request for help. */
export type ParsedFlags<F> =
  | { readonly ok: true; readonly flags: F }
  | { readonly ok: false; readonly error: string }
  | { readonly ok: 'help' };

/**
 * The shape both spool commands share: parse, answer `--help` or a usage error (exit 2), then
 * run against the spool of the configured (or `--stream`) streams.
 */
export async function runSpoolCommand<F extends { readonly stream: string | undefined }>(
  command: string,
  usage: string,
  parsed: ParsedFlags<F>,
  io: SpoolAdminIo,
  work: (flags: F, admin: SpoolAdmin, streams: readonly string[]) => Promise<number>,
): Promise<number> {
  if (parsed.ok === 'help') {
    io.write(usage);
    return EXIT_OK;
  }
  if (!parsed.ok) {
    io.warn(`dis-gateway ${command}: ${parsed.error}\n\n${usage}`);
    return EXIT_USAGE;
  }
  const { flags } = parsed;
  return withSpool(command, io, flags.stream, (admin, streams) => work(flags, admin, streams));
}

import type { FaultEngine } from './faults.ts';
import type { EmulatorStore, StreamState } from './state.ts';
import type { TokenStore } from './tokens.ts';
import { disError } from './errors.ts';

export interface IamUser {
  readonly domain: string;
  readonly name: string;
  readonly password: string;
}

/** What every operation may use; built once per emulator. */
export interface EmulatorContext {
  readonly store: EmulatorStore;
  readonly faults: FaultEngine;
  readonly tokens: TokenStore;
  readonly clock: () => number;
  readonly random: () => number;
  readonly region: string;
  readonly projectId: string;
  readonly iamUsers: readonly IamUser[];
  readonly throttling: boolean;
  readonly maxRecordsPerRequest: number;
  readonly maxAgeMs: number;
}

export interface OperationInput {
  /** Decoded `{stream_name}` from the path, when the route has one. */
  readonly streamName?: string;
  /** Decoded query; the first value wins for a repeated key. */
  readonly query: ReadonlyMap<string, string>;
  readonly contentType: string | undefined;
  readonly body: Buffer;
}

export function requireStream(ctx: EmulatorContext, name: string | undefined): StreamState {
  const stream = name === undefined ? undefined : ctx.store.stream(name);
  if (stream === undefined) throw disError('DIS.4301', `[${name ?? ''}]`);
  return stream;
}

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintToken } from '../../src/auth/mint-token.ts';
import {
  DEV_CREDENTIALS,
  createEmulator,
  type Emulator,
  type EmulatorOptions,
} from '../../src/emulator/emulator.ts';
import type { Cleanup } from './cleanup.ts';
import { uniqueStreamName } from './dis-fixtures.ts';

// What a gateway process needs around it: an emulator holding DIS streams of the test's own, an
// HS256 secret the test mints tokens with, and a directory for its config files. The test adds
// Redis, GATEWAY_STREAMS and its settings to `env`, then spawns gateways. Closed by the test's
// cleanup.

const ISSUER = 'https://auth.process-test.internal';
const AUDIENCE = 'dis-gateway';

export interface GatewayFixtureOptions {
  /** Prefix of the DIS stream names (each made unique) and of the config directory. */
  readonly name: string;
  readonly partitions: number;
  /** How many DIS streams of `partitions` each (default 1). */
  readonly streams?: number;
  /** Default: throttling off, so DIS's per-partition write limits never answer DIS.4303. */
  readonly emulator?: EmulatorOptions;
}

export interface GatewayFixture {
  readonly emulator: Emulator;
  /** The first of `disStreams`. */
  readonly disStream: string;
  readonly disStreams: readonly string[];
  /**
   * A gateway on a free loopback port, writing to the emulator with its dev AK/SK and accepting
   * `token()`s (HS256).
   */
  readonly env: Readonly<Record<string, string>>;
  /** A token the gateways accept (lifetime 600 s unless given). */
  token(subject: string, scopes: readonly string[], lifetimeS?: number): string;
  /** Writes `config` as JSON into the fixture's directory; the path is for GATEWAY_CONFIG. */
  writeConfig(fileName: string, config: unknown): Promise<string>;
}

export async function startGatewayFixture(
  t: Cleanup,
  options: GatewayFixtureOptions,
): Promise<GatewayFixture> {
  const disStreams = Array.from({ length: options.streams ?? 1 }, (_, i) =>
    uniqueStreamName(options.streams === undefined ? options.name : `${options.name}-${i}`),
  );
  const [disStream] = disStreams;
  if (disStream === undefined) throw new Error('a gateway fixture needs at least one stream');
  const emulator = await createEmulator({
    throttling: false,
    streams: disStreams.map((name) => ({ name, partitions: options.partitions })),
    ...options.emulator,
  });
  t.after(() => emulator.close());
  const dir = await mkdtemp(join(tmpdir(), `gw-${options.name}-`));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const credentials = DEV_CREDENTIALS[0];
  if (credentials === undefined) throw new Error('the emulator has no dev credentials');
  const jwtSecret = randomBytes(32).toString('base64url');
  return {
    emulator,
    disStream,
    disStreams,
    env: {
      PORT: '0',
      HOST: '127.0.0.1',
      DIS_ENDPOINT: emulator.url,
      DIS_PROJECT_ID: emulator.projectId,
      DIS_REGION: 'cn-north-4',
      DIS_AK: credentials.ak,
      DIS_SK: credentials.sk,
      JWT_SECRET: jwtSecret,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      JWT_ALGORITHMS: 'HS256',
    },
    token: (subject, scopes, lifetimeS = 600) =>
      mintToken({
        secret: jwtSecret,
        issuer: ISSUER,
        audience: AUDIENCE,
        subject,
        scopes,
        lifetimeS,
        now: Date.now(),
      }),
    async writeConfig(fileName, config) {
      const path = join(dir, fileName);
      await writeFile(path, JSON.stringify(config));
      return path;
    },
  };
}

import { parseArgs } from 'node:util';
import { mintToken } from '../auth/mint-token.ts';
import type { Env } from '../config/env-overrides.ts';
import { formatProblems, loadConfig } from '../config/load-config.ts';
import type { ReadFile } from '../config/secrets.ts';
import type { JwtAlgorithm, JwtConfig } from '../config/types.ts';

// `dis-gateway token`: mints a JWT the configured gateway accepts, signed with its HS secret. For dev
// stacks and smoke tests; production callers get their tokens from the identity provider.

export interface TokenCommandIo {
  readonly env: Env;
  /** Reads the file GATEWAY_CONFIG names and the secret files it or the environment names. */
  readonly readFile: ReadFile;
  /** stdout: the token and nothing else, so `TOKEN=$(dis-gateway token)` works. */
  readonly write: (line: string) => void;
  /** stderr: usage errors, config problems and the one-line summary. */
  readonly warn: (line: string) => void;
  /** Milliseconds since the epoch: the token's iat. */
  readonly now: () => number;
}

export const DEFAULT_SCOPE = 'dis:write:*';
export const DEFAULT_SUBJECT = 'dev';
export const DEFAULT_LIFETIME_S = 3_600;
/** A minted token is a dev convenience; a day is long enough for any session that uses one. */
export const MAX_LIFETIME_S = 86_400;

/** Exit codes: 0 printed a token (or help), 1 the configuration cannot mint, 2 bad flags. */
const EXIT_CONFIG = 1;
const EXIT_USAGE = 2;

export const TOKEN_USAGE = `Usage: dis-gateway token [--scope <scope>]... [--sub <principal>] [--lifetime <seconds>]

Mints a JWT that this gateway's configuration accepts, signed with its HS secret (JWT_SECRET or
auth.jwt.secret_env / secret_file; the first one when several are configured for rotation), with
the first configured issuer and audience. Prints only the token on stdout, and a summary on
stderr. The whole configuration must be valid (see dis-gateway check-config).

Options:
  --scope <scope>       a scope to grant; repeat for several (default ${DEFAULT_SCOPE}),
                        e.g. --scope dis:write:clicks --scope dis:write:orders
  --sub <principal>     the principal (sub claim) rate limits are kept for (default ${DEFAULT_SUBJECT})
  --lifetime <seconds>  1..${MAX_LIFETIME_S} (default ${DEFAULT_LIFETIME_S})
  -h, --help            this text`;

interface TokenFlags {
  readonly scopes: readonly string[];
  readonly subject: string;
  readonly lifetimeS: number;
  readonly help: boolean;
}

type Parsed =
  | { readonly ok: true; readonly flags: TokenFlags }
  | { readonly ok: false; readonly error: string };

const readFlags = (argv: readonly string[]) =>
  parseArgs({
    args: [...argv],
    options: {
      scope: { type: 'string', multiple: true },
      sub: { type: 'string' },
      lifetime: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  }).values;

function parseFlags(argv: readonly string[]): Parsed {
  let values: ReturnType<typeof readFlags>;
  try {
    values = readFlags(argv);
  } catch (error) {
    // parseArgs' messages name the flag and say what is wrong with it; nothing secret is in argv.
    return { ok: false, error: error instanceof Error ? error.message : 'invalid arguments' };
  }
  const lifetime = values.lifetime ?? String(DEFAULT_LIFETIME_S);
  const lifetimeS = /^\d{1,6}$/.test(lifetime) ? Number(lifetime) : Number.NaN;
  if (!(lifetimeS >= 1 && lifetimeS <= MAX_LIFETIME_S))
    return {
      ok: false,
      error: `--lifetime must be a whole number of seconds, 1..${MAX_LIFETIME_S}; got ${JSON.stringify(lifetime)}`,
    };
  const subject = values.sub ?? DEFAULT_SUBJECT;
  if (subject.trim() === '') return { ok: false, error: '--sub must not be empty' };
  const scopes = values.scope ?? [DEFAULT_SCOPE];
  return { ok: true, flags: { scopes, subject, lifetimeS, help: values.help === true } };
}

type HmacAlgorithm = 'HS256' | 'HS384' | 'HS512';

type Signing =
  | { readonly ok: true; readonly secret: string; readonly algorithm: HmacAlgorithm }
  | { readonly ok: false; readonly error: string };

function isHmac(algorithm: JwtAlgorithm): algorithm is HmacAlgorithm {
  return algorithm === 'HS256' || algorithm === 'HS384' || algorithm === 'HS512';
}

function chooseSigning(jwt: JwtConfig): Signing {
  if (jwt.dev)
    return {
      ok: false,
      error:
        'no JWT key is configured, so a running gateway signs with a secret it makes at startup (its banner prints a dev token); set JWT_SECRET (at least 32 bytes) to mint tokens here',
    };
  const [secret] = jwt.secrets;
  if (secret === undefined)
    return {
      ok: false,
      error:
        'no HS secret is configured (JWT_SECRET or auth.jwt.secret_env / secret_file): RS/ES/PS keys and JWKS are public keys and cannot sign; get tokens from the identity provider instead',
    };
  const algorithm = jwt.algorithms.find(isHmac);
  if (algorithm === undefined)
    return {
      ok: false,
      error: `JWT_ALGORITHMS / auth.jwt.algorithms allows ${jwt.algorithms.join(', ')}: no HS algorithm, so an HS-signed token would be refused`,
    };
  // mintToken writes `sub` and `scope`; a gateway reading other claims would see no principal.
  if (jwt.principalClaim !== 'sub' || jwt.scopeClaim !== 'scope')
    return {
      ok: false,
      error: `auth.jwt.principal_claim / scope_claim are ${jwt.principalClaim} / ${jwt.scopeClaim}; minted tokens carry sub / scope only`,
    };
  return { ok: true, secret, algorithm };
}

/**
 * Pure apart from the injected edges: loads the configuration from `io.env` (and the file
 * GATEWAY_CONFIG names, through `io.readFile`), mints a token with the flags and writes it.
 * Returns the exit code.
 */
export function runTokenCommand(argv: readonly string[], io: TokenCommandIo): number {
  const parsed = parseFlags(argv);
  if (!parsed.ok) {
    io.warn(`dis-gateway token: ${parsed.error}`);
    io.warn('Run dis-gateway token --help for the options.');
    return EXIT_USAGE;
  }
  const { flags } = parsed;
  if (flags.help) {
    for (const line of TOKEN_USAGE.split('\n')) io.write(line);
    return 0;
  }

  const loaded = loadConfig(io.env, io.readFile);
  if (!loaded.ok) {
    io.warn(`dis-gateway token: invalid configuration\n${formatProblems(loaded.problems)}`);
    return EXIT_CONFIG;
  }
  // Warnings about Redis, streams and the like are check-config's business; what matters here is
  // in the summary line below (algorithm, issuer, audience).
  const { jwt } = loaded.config.auth;
  const signing = chooseSigning(jwt);
  if (!signing.ok) {
    io.warn(`dis-gateway token: ${signing.error}`);
    return EXIT_CONFIG;
  }
  const [issuer] = jwt.issuer;
  const [audience] = jwt.audience;
  if (issuer === undefined || audience === undefined) {
    io.warn('dis-gateway token: no JWT issuer or audience is configured');
    return EXIT_CONFIG;
  }
  if (jwt.maxTokenAgeS !== undefined && flags.lifetimeS > jwt.maxTokenAgeS)
    io.warn(
      `warning: auth.jwt.max_token_age_s is ${jwt.maxTokenAgeS}: the gateway refuses the token after that, before it expires`,
    );

  const now = io.now();
  let token: string;
  try {
    token = mintToken({
      secret: signing.secret,
      algorithm: signing.algorithm,
      issuer,
      audience,
      subject: flags.subject,
      scopes: flags.scopes,
      lifetimeS: flags.lifetimeS,
      now,
    });
  } catch (error) {
    // mintToken's messages are about the flags (scope syntax, lifetime); the secret never appears.
    io.warn(`dis-gateway token: ${error instanceof Error ? error.message : 'cannot mint a token'}`);
    return EXIT_USAGE;
  }
  const expires = new Date((Math.floor(now / 1000) + flags.lifetimeS) * 1000);
  io.warn(
    `dis-gateway token: ${signing.algorithm} token for ${flags.subject}, scope ${flags.scopes.join(' ')}, iss ${issuer}, aud ${audience}, expires ${expires.toISOString()}`,
  );
  io.write(token);
  return 0;
}

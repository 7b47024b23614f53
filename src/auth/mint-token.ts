import { InvalidOptionError } from '../errors/coded-error.ts';
import jwt from 'jsonwebtoken';
import { toSecretKey } from './static-keys.ts';

export interface MintTokenOptions {
  readonly secret: string;
  readonly algorithm?: 'HS256' | 'HS384' | 'HS512' | undefined;
  readonly issuer: string;
  readonly audience: string;
  readonly subject: string;
  readonly scopes: readonly string[];
  readonly lifetimeS: number;
  /** Milliseconds since the epoch. */
  readonly now: number;
}

const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** An HS token the gateway's own verifier accepts: for dev mode, the CLI and tests. */
export function mintToken(options: MintTokenOptions): string {
  if (!Number.isInteger(options.lifetimeS) || options.lifetimeS <= 0) {
    throw new InvalidOptionError('token lifetime must be a positive whole number of seconds');
  }
  for (const scope of options.scopes) {
    // A space would silently split one scope into two once joined.
    if (!SCOPE_TOKEN.test(scope))
      throw new InvalidOptionError(`invalid scope ${JSON.stringify(scope)}`);
  }
  if (options.subject === '') throw new InvalidOptionError('token subject must not be empty');
  const iat = Math.floor(options.now / 1000);
  return jwt.sign(
    {
      iss: options.issuer,
      aud: options.audience,
      sub: options.subject,
      scope: options.scopes.join(' '),
      iat,
      exp: iat + options.lifetimeS,
    },
    toSecretKey(options.secret),
    // iat is in the payload, so jsonwebtoken keeps it instead of reading the real clock.
    { algorithm: options.algorithm ?? 'HS256' },
  );
}

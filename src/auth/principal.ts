import { insufficientScopeError, invalidTokenError } from './auth-errors.ts';

export interface Principal {
  readonly id: string;
  readonly scopes: ReadonlySet<string>;
}

const WRITE_PREFIX = 'dis:write:';
const WRITE_ANY = 'dis:write:*';

export function requiredScope(stream: string): string {
  return `${WRITE_PREFIX}${stream}`;
}

/**
 * Exact matches only: `dis:write:click` does not grant `clicks`, and `dis:write:*` is the one
 * wildcard (a literal, not a pattern). Throws the 403 to answer with.
 */
export function authorizeStream(principal: Principal, stream: string): void {
  if (mayWrite(principal, stream)) return;
  throw insufficientScopeError(requiredScope(stream));
}

/** The same rule as authorizeStream, as a question. */
export function mayWrite(principal: Principal, stream: string): boolean {
  // An empty stream name would make `dis:write:` a grant; it is never a valid stream anyway.
  return (
    stream !== '' &&
    (principal.scopes.has(requiredScope(stream)) || principal.scopes.has(WRITE_ANY))
  );
}

function claim(payload: Readonly<Record<string, unknown>>, name: string): unknown {
  // Own properties only: a claim named `constructor` must not find Object.prototype's.
  return Object.hasOwn(payload, name) ? payload[name] : undefined;
}

/** RFC 8693 §4.2 / RFC 6749 §3.3: space-separated; an array of strings is accepted too. */
function toScopes(value: unknown): ReadonlySet<string> {
  if (value === undefined) return new Set();
  if (typeof value === 'string') return new Set(value.split(' ').filter((s) => s !== ''));
  if (Array.isArray(value)) {
    const scopes = new Set<string>();
    for (const item of value) {
      if (typeof item !== 'string')
        throw invalidTokenError('claims', 'scope claim holds a non-string');
      if (item !== '') scopes.add(item);
    }
    return scopes;
  }
  throw invalidTokenError('claims', 'scope claim is neither a string nor an array');
}

/** The caller a verified payload names. Throws 401 when the principal claim is unusable. */
export function toPrincipal(
  payload: Readonly<Record<string, unknown>>,
  principalClaim: string,
  scopeClaim: string,
): Principal {
  const id = claim(payload, principalClaim);
  if (typeof id !== 'string' || id === '')
    throw invalidTokenError('claims', 'principal claim missing');
  return { id, scopes: toScopes(claim(payload, scopeClaim)) };
}

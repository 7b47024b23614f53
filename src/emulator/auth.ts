import { verifySignedRequest as verifySignature } from '../dis/request-verifier.ts';
import { headerValue } from '../dis/signature-verifier.ts';
import type { ArrivedRequest } from '../dis/signature-verifier.ts';
import type { TokenStore } from './tokens.ts';

// The emulator's caller check: an IAM token it issued, or an AK/SK signature checked by the shared
// verifier (src/dis/request-verifier.ts), answered with DIS's wording of the reason.

export interface EmulatorCredential {
  readonly ak: string;
  readonly sk: string;
  /** Temporary keys: requests must carry the same `X-Security-Token`. */
  readonly securityToken?: string | undefined;
}

export interface SignatureCheckOptions {
  readonly credentials: readonly EmulatorCredential[];
  /** Region a legacy `Credential=` scope must name. */
  readonly region: string;
  /** Emulator clock, ms since epoch. */
  readonly now: number;
  /** Allowed distance between `X-Sdk-Date` and the clock; DIS's gateway allows 15 minutes. */
  readonly maxSkewMs?: number;
}

export type AuthVerdict =
  | { readonly ok: true; readonly principal: string; readonly via: 'aksk' | 'token' }
  | { readonly ok: false; readonly message: string };

const PREFIX = 'Incorrect IAM authentication information: ';
export { MAX_SKEW_MS } from '../dis/request-verifier.ts';

function fail(reason: string): AuthVerdict {
  return { ok: false, message: `${PREFIX}${reason}` };
}

/** Checks an AK/SK-signed request in the v3 `Access=`, legacy `Credential=` or `V11-HMAC-SHA256` form. */
export function verifySignedRequest(
  req: ArrivedRequest,
  options: SignatureCheckOptions,
): AuthVerdict {
  const verdict = verifySignature(req, {
    lookup: (ak) => options.credentials.find((c) => c.ak === ak),
    region: options.region,
    now: options.now,
    maxSkewMs: options.maxSkewMs,
  });
  return verdict.ok ? { ok: true, principal: verdict.ak, via: 'aksk' } : fail(verdict.message);
}

/** `X-Auth-Token` wins only when there is no Authorization header, as a signed request says more. */
export function authenticate(
  req: ArrivedRequest,
  options: SignatureCheckOptions & { readonly tokens: TokenStore },
): AuthVerdict {
  const token = headerValue(req.headers, 'x-auth-token');
  if (token !== undefined && headerValue(req.headers, 'authorization') === undefined) {
    const issued = options.tokens.lookup(token, options.now);
    if (issued === 'expired') return fail('token expires');
    if (issued === undefined) return fail('decrypt token fail');
    return { ok: true, principal: issued.userName, via: 'token' };
  }
  return verifySignedRequest(req, options);
}

import { formatSdkDate, parseSdkDate } from '../dis/canonical.ts';
import { verifyLegacySignature } from './legacy-signature.ts';
import { headerValue, parseAuthorization, verifyV3Signature } from './signature.ts';
import type { ArrivedRequest } from './signature.ts';
import type { TokenStore } from './tokens.ts';

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
export const MAX_SKEW_MS = 15 * 60 * 1000;

function fail(reason: string): AuthVerdict {
  return { ok: false, message: `${PREFIX}${reason}` };
}

/** Checks an AK/SK-signed request in the v3 `Access=`, legacy `Credential=` or `V11-HMAC-SHA256` form. */
export function verifySignedRequest(
  req: ArrivedRequest,
  options: SignatureCheckOptions,
): AuthVerdict {
  const header = headerValue(req.headers, 'authorization');
  if (header === undefined) return fail('Authorization header not found');
  const auth = parseAuthorization(header);
  if (auth === undefined) return fail('Authorization format is incorrect');
  const sdkDate = headerValue(req.headers, 'x-sdk-date');
  const signedAt = sdkDate === undefined ? undefined : parseSdkDate(sdkDate);
  if (sdkDate === undefined || signedAt === undefined)
    return fail('x-sdk-date is missing or invalid');
  if (Math.abs(options.now - signedAt.getTime()) > (options.maxSkewMs ?? MAX_SKEW_MS)) {
    const serverTime = formatSdkDate(new Date(options.now));
    return fail(`signature expired, signature time:${sdkDate}, server time:${serverTime}`);
  }
  const credential = options.credentials.find((c) => c.ak === auth.ak);
  if (credential === undefined) return fail(`ak ${auth.ak} not exist`);
  if (
    credential.securityToken !== undefined &&
    headerValue(req.headers, 'x-security-token') !== credential.securityToken
  ) {
    return fail('security token is missing or invalid');
  }
  if (auth.scope !== undefined) {
    const { scope } = auth;
    if (scope.service !== 'dis' || scope.terminator !== 'sdk_request') {
      return fail('credential scope is invalid');
    }
    if (scope.date !== sdkDate.slice(0, 8) || scope.region !== options.region) {
      return fail('credential scope does not match the date or region');
    }
  }
  const valid =
    auth.scope === undefined
      ? verifyV3Signature(req, auth, sdkDate, credential.sk)
      : verifyLegacySignature(req, auth, sdkDate, credential.sk);
  return valid ? { ok: true, principal: auth.ak, via: 'aksk' } : fail('verify aksk signature fail');
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

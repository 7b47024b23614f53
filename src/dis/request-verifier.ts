import { formatSdkDate, parseSdkDate, sha256Hex } from './canonical.ts';
import { verifyLegacySignature } from './legacy-signature.ts';
import { headerValue, parseAuthorization, verifyV3Signature } from './signature-verifier.ts';
import type { ArrivedRequest, ParsedAuthorization } from './signature-verifier.ts';

// Checks an AK/SK-signed request as DIS's API gateway does (dis-api.md §6.2–6.3), in the three forms
// the official SDKs send: v3 `SDK-HMAC-SHA256 Access=`, legacy `SDK-HMAC-SHA256 Credential=` and the
// derived-key `V11-HMAC-SHA256 Credential=`. One implementation for the emulator (which says why in
// its answer, as DIS does) and the front door (which logs the reason and answers one body).

export interface SigningCredential {
  readonly sk: string;
  /** Temporary keys: requests must carry the same `X-Security-Token`. */
  readonly securityToken?: string | undefined;
}

export interface SignedRequestCheck {
  /** The secret of an access key, undefined for an unknown one. */
  readonly lookup: (ak: string) => SigningCredential | undefined;
  /** Region a legacy `Credential=` scope must name. */
  readonly region: string;
  /** The verifier's clock, ms since epoch. */
  readonly now: number;
  /** Allowed distance between `X-Sdk-Date` and the clock; DIS's gateway allows 15 minutes. */
  readonly maxSkewMs?: number | undefined;
  /**
   * A signed `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD` leaves the body out of the signature (node-core
   * sends it for a Content-Type other than exactly `application/json`). DIS takes it (default true);
   * the front door refuses it unless configured, since the body could then be swapped.
   */
  readonly allowUnsignedPayload?: boolean | undefined;
  /** Headers the signature must cover (the front door: `host` and `x-sdk-date`). */
  readonly requiredSignedHeaders?: readonly string[] | undefined;
}

/** Why a signature was refused: for logs and metrics, never for the caller of the front door. */
export type SignatureFailure =
  | 'no-authorization'
  | 'malformed-authorization'
  | 'bad-date'
  | 'expired'
  | 'unknown-ak'
  | 'security-token'
  | 'bad-scope'
  | 'unsigned-header'
  | 'unsigned-payload'
  | 'payload-hash'
  | 'bad-signature';

export type SignatureVerdict =
  | {
      readonly ok: true;
      readonly ak: string;
      readonly form: 'v3' | 'legacy' | 'derived';
    }
  | {
      readonly ok: false;
      readonly reason: SignatureFailure;
      /** DIS's wording after `Incorrect IAM authentication information: `. */
      readonly message: string;
      /** The access key the request named, when it could be read. */
      readonly ak?: string;
    };

export const MAX_SKEW_MS = 15 * 60 * 1000;

type Refusal = Extract<SignatureVerdict, { ok: false }>;

function refuse(reason: SignatureFailure, message: string, ak?: string): Refusal {
  return ak === undefined ? { ok: false, reason, message } : { ok: false, reason, message, ak };
}

/** What the headers alone say, before the body is read: a request refused here is never read. */
export type HeaderCheck =
  | Extract<SignatureVerdict, { ok: false }>
  | {
      readonly ok: true;
      readonly auth: ParsedAuthorization;
      readonly sdkDate: string;
      readonly credential: SigningCredential;
    };

/** Everything but the signature itself: the Authorization form, the date window, the AK, the scope. */
export function checkSignedHeaders(
  headers: ArrivedRequest['headers'],
  check: SignedRequestCheck,
): HeaderCheck {
  const header = headerValue(headers, 'authorization');
  if (header === undefined) return refuse('no-authorization', 'Authorization header not found');
  const auth = parseAuthorization(header);
  if (auth === undefined)
    return refuse('malformed-authorization', 'Authorization format is incorrect');
  const sdkDate = headerValue(headers, 'x-sdk-date');
  const signedAt = sdkDate === undefined ? undefined : parseSdkDate(sdkDate);
  if (sdkDate === undefined || signedAt === undefined)
    return refuse('bad-date', 'x-sdk-date is missing or invalid', auth.ak);
  if (Math.abs(check.now - signedAt.getTime()) > (check.maxSkewMs ?? MAX_SKEW_MS)) {
    const serverTime = formatSdkDate(new Date(check.now));
    return refuse(
      'expired',
      `signature expired, signature time:${sdkDate}, server time:${serverTime}`,
      auth.ak,
    );
  }
  const credential = check.lookup(auth.ak);
  if (credential === undefined) return refuse('unknown-ak', `ak ${auth.ak} not exist`, auth.ak);
  if (
    credential.securityToken !== undefined &&
    headerValue(headers, 'x-security-token') !== credential.securityToken
  ) {
    return refuse('security-token', 'security token is missing or invalid', auth.ak);
  }
  if (auth.scope !== undefined) {
    const { scope } = auth;
    if (scope.service !== 'dis' || scope.terminator !== 'sdk_request') {
      return refuse('bad-scope', 'credential scope is invalid', auth.ak);
    }
    if (scope.date !== sdkDate.slice(0, 8) || scope.region !== check.region) {
      return refuse('bad-scope', 'credential scope does not match the date or region', auth.ak);
    }
  }
  const unsigned = check.requiredSignedHeaders?.find((name) => !auth.signedHeaders.includes(name));
  if (unsigned !== undefined)
    return refuse('unsigned-header', `${unsigned} is not among SignedHeaders`, auth.ak);
  return { ok: true, auth, sdkDate, credential };
}

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/**
 * A signed `X-Sdk-Content-Sha256` stands for the body in the canonical request, so it must be the
 * hash of the body that arrived; `UNSIGNED-PAYLOAD` (or anything not a hash) only where allowed.
 */
function payloadHashRefusal(
  req: ArrivedRequest,
  auth: ParsedAuthorization,
  check: SignedRequestCheck,
): Refusal | undefined {
  if (!auth.signedHeaders.includes('x-sdk-content-sha256')) return undefined;
  const claimed = headerValue(req.headers, 'x-sdk-content-sha256')?.trim() ?? '';
  if (SHA256_HEX.test(claimed)) {
    return claimed.toLowerCase() === sha256Hex(req.body)
      ? undefined
      : refuse('payload-hash', 'x-sdk-content-sha256 does not match the body', auth.ak);
  }
  return check.allowUnsignedPayload === false
    ? refuse('unsigned-payload', 'the payload is not signed', auth.ak)
    : undefined;
}

/** The whole check, the signature over the received bytes included. */
export function verifySignedRequest(
  req: ArrivedRequest,
  check: SignedRequestCheck,
): SignatureVerdict {
  const headers = checkSignedHeaders(req.headers, check);
  if (!headers.ok) return headers;
  const { auth, sdkDate, credential } = headers;
  const payload = payloadHashRefusal(req, auth, check);
  if (payload !== undefined) return payload;
  const valid =
    auth.scope === undefined
      ? verifyV3Signature(req, auth, sdkDate, credential.sk)
      : verifyLegacySignature(req, auth, sdkDate, credential.sk);
  if (!valid) return refuse('bad-signature', 'verify aksk signature fail', auth.ak);
  const form =
    auth.scope === undefined ? 'v3' : auth.algorithm === 'V11-HMAC-SHA256' ? 'derived' : 'legacy';
  return { ok: true, ak: auth.ak, form };
}

import { hmacSha256, sha256Hex } from './canonical.ts';
import { canonicalRequestVariants, hexEquals } from './signature-verifier.ts';
import type {
  ArrivedRequest,
  CredentialScope,
  ParsedAuthorization,
  SigningAlgorithm,
} from './signature-verifier.ts';

// The older DIS-SDK signatures (java-dis, python-dis, .NET; dis-api.md §6.3): an AWS-v4-like
// credential scope and key chain, plus python-dis's default HKDF-derived variant `V11-HMAC-SHA256`.

/** hex(HKDF-SHA256(ikm = SK, salt = AK, info = "date/region/service")), one 32-byte block. */
export function deriveV11Secret(ak: string, sk: string, scope: CredentialScope): string {
  const prk = hmacSha256(ak, sk);
  const info = `${scope.date}/${scope.region}/${scope.service}`;
  return hmacSha256(prk, `${info}\u0001`).toString('hex');
}

export function legacySigningKey(
  algorithm: SigningAlgorithm,
  ak: string,
  sk: string,
  scope: CredentialScope,
): Buffer {
  const secret = algorithm === 'V11-HMAC-SHA256' ? deriveV11Secret(ak, sk, scope) : sk;
  let key = hmacSha256(`SDK${secret}`, scope.date);
  key = hmacSha256(key, scope.region);
  key = hmacSha256(key, scope.service);
  return hmacSha256(key, scope.terminator);
}

export function legacyStringToSign(
  algorithm: SigningAlgorithm,
  sdkDate: string,
  scope: CredentialScope,
  canonicalRequest: string,
): string {
  return `${algorithm}\n${sdkDate}\n${scope.text}\n${sha256Hex(canonicalRequest)}`;
}

export function verifyLegacySignature(
  req: ArrivedRequest,
  auth: ParsedAuthorization,
  sdkDate: string,
  sk: string,
): boolean {
  const scope = auth.scope;
  if (scope === undefined) return false;
  const key = legacySigningKey(auth.algorithm, auth.ak, sk, scope);
  const candidates = canonicalRequestVariants(req, auth.signedHeaders) ?? [];
  return candidates.some((canonical) => {
    const stringToSign = legacyStringToSign(auth.algorithm, sdkDate, scope, canonical);
    return hexEquals(hmacSha256(key, stringToSign).toString('hex'), auth.signature);
  });
}

export interface LegacySignInput {
  readonly algorithm: SigningAlgorithm;
  readonly ak: string;
  readonly sk: string;
  readonly region: string;
  readonly sdkDate: string;
  /** Exactly the canonical request the client builds. */
  readonly canonicalRequest: string;
  readonly signedHeaders: string;
}

/** The Authorization header a legacy SDK would send; for tests that drive the emulator like java-dis. */
export function legacyAuthorization(input: LegacySignInput): string {
  const date = input.sdkDate.slice(0, 8);
  const scope: CredentialScope = {
    date,
    region: input.region,
    service: 'dis',
    terminator: 'sdk_request',
    text: `${date}/${input.region}/dis/sdk_request`,
  };
  const key = legacySigningKey(input.algorithm, input.ak, input.sk, scope);
  const stringToSign = legacyStringToSign(
    input.algorithm,
    input.sdkDate,
    scope,
    input.canonicalRequest,
  );
  const signature = hmacSha256(key, stringToSign).toString('hex');
  return `${input.algorithm} Credential=${input.ak}/${scope.text}, SignedHeaders=${input.signedHeaders}, Signature=${signature}`;
}

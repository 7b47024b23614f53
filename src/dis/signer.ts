import {
  EMPTY_PAYLOAD_SHA256,
  canonicalHeaders,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  formatSdkDate,
  hmacSha256,
  parseQuery,
  sha256Hex,
} from './canonical.ts';

export const SIGNING_ALGORITHM = 'SDK-HMAC-SHA256';

export interface AkSkCredentials {
  readonly ak: string;
  readonly sk: string;
  /** Temporary keys: sent and signed as `X-Security-Token`. */
  readonly securityToken?: string | undefined;
}

export interface SignInput {
  readonly method: string;
  readonly url: URL;
  /** The headers the caller will send; all of them are signed. */
  readonly headers: Readonly<Record<string, string>>;
  /** The exact body bytes (or text, hashed as UTF-8). */
  readonly body: string | Uint8Array;
  readonly credentials: AkSkCredentials;
  /** The signing instant; the signer never reads the clock. */
  readonly date: Date;
}

export interface SignedRequest {
  /** Headers to send: the caller's, plus `host`, `X-Sdk-Date`, `X-Security-Token`, `Authorization`. */
  readonly headers: Record<string, string>;
  readonly authorization: string;
  readonly signedHeaders: string;
  readonly signature: string;
  readonly canonicalRequest: string;
  readonly stringToSign: string;
}

function findHeader(
  headers: Readonly<Record<string, string>>,
  lowerName: string,
): string | undefined {
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === lowerName) return value;
  }
  return undefined;
}

/** The v3 SDK signer (dis-api.md §6.2): no credential scope, the raw SK as the HMAC key. */
export function signRequest(input: SignInput): SignedRequest {
  const sdkDate = formatSdkDate(input.date);
  const headers: Record<string, string> = {
    ...input.headers,
    host: input.url.host,
    'X-Sdk-Date': sdkDate,
  };
  if (input.credentials.securityToken !== undefined) {
    headers['X-Security-Token'] = input.credentials.securityToken;
  }
  const contentSha = findHeader(headers, 'x-sdk-content-sha256');
  const payloadHash =
    contentSha ?? (input.body.length === 0 ? EMPTY_PAYLOAD_SHA256 : sha256Hex(input.body));
  const canonical = canonicalHeaders(headers);
  const request = canonicalRequest({
    method: input.method,
    uri: canonicalUri(input.url.pathname),
    query: canonicalQuery(parseQuery(input.url.search)),
    headers: canonical,
    payloadHash,
  });
  const stringToSign = `${SIGNING_ALGORITHM}\n${sdkDate}\n${sha256Hex(request)}`;
  const signature = hmacSha256(input.credentials.sk, stringToSign).toString('hex');
  const authorization = `${SIGNING_ALGORITHM} Access=${input.credentials.ak}, SignedHeaders=${canonical.signedHeaders}, Signature=${signature}`;
  headers.Authorization = authorization;
  return {
    headers,
    authorization,
    signedHeaders: canonical.signedHeaders,
    signature,
    canonicalRequest: request,
    stringToSign,
  };
}

import { timingSafeEqual } from 'node:crypto';
import {
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  hmacSha256,
  parseQuery,
  percentEncode,
  sha256Hex,
} from './canonical.ts';

// The server side of DIS's AK/SK signatures, shared by the emulator and the gateway's DIS-compatible
// front door. Rebuilds what a client signed from what arrived. The official signers disagree on a few details
// (dis-api.md §6.2–6.3), so we build every canonical request they could have produced and accept a
// match with any: each variant is a function of the same received bytes, so tampering still fails,
// while a real SDK of any family is never rejected for a canonicalisation quirk.

export interface ArrivedRequest {
  readonly method: string;
  /** Path exactly as it arrived, still percent-encoded. */
  readonly path: string;
  /** Query as it arrived, with or without the leading `?`. */
  readonly search: string;
  /** Lowercased names, as node:http gives them. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly body: Uint8Array | string;
}

export type SigningAlgorithm = 'SDK-HMAC-SHA256' | 'V11-HMAC-SHA256';

export interface CredentialScope {
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly terminator: string;
  /** `date/region/service/terminator` as it arrived. */
  readonly text: string;
}

export interface ParsedAuthorization {
  readonly algorithm: SigningAlgorithm;
  readonly ak: string;
  /** Present for the legacy DIS-SDK `Credential=` form, absent for the v3 `Access=` form. */
  readonly scope?: CredentialScope;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

const AUTHORIZATION = /^(SDK-HMAC-SHA256|V11-HMAC-SHA256)\s+(.+)$/;

export function parseAuthorization(value: string): ParsedAuthorization | undefined {
  const m = AUTHORIZATION.exec(value.trim());
  const algorithm = m?.[1];
  if (algorithm !== 'SDK-HMAC-SHA256' && algorithm !== 'V11-HMAC-SHA256') return undefined;
  const fields = new Map<string, string>();
  for (const part of (m?.[2] ?? '').split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (signedHeaders === undefined || signature === undefined || signedHeaders === '') {
    return undefined;
  }
  const base: Pick<ParsedAuthorization, 'algorithm' | 'signedHeaders' | 'signature'> = {
    algorithm,
    signedHeaders: signedHeaders.split(';'),
    signature,
  };
  const access = fields.get('Access');
  if (access !== undefined && algorithm === 'SDK-HMAC-SHA256') return { ...base, ak: access };
  const credential = fields.get('Credential')?.split('/');
  if (credential?.length !== 5) return undefined;
  const [ak, date, region, service, terminator] = credential;
  if (ak === undefined || date === undefined || region === undefined) return undefined;
  if (service === undefined || terminator === undefined) return undefined;
  const scope = { date, region, service, terminator, text: credential.slice(1).join('/') };
  return { ...base, ak, scope };
}

export function headerValue(headers: ArrivedRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(',');
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** java-dis: the path URL-encoded twice, no `/` appended. */
function javaUri(path: string): string {
  const encoded = path
    .split('/')
    .map((s) => percentEncode(percentEncode(safeDecode(s))))
    .join('/');
  return encoded.startsWith('/') ? encoded : `/${encoded}`;
}

/** python-dis: empty and `.` segments dropped, `..` resolved, always ends with `/`. */
function pythonUri(path: string): string {
  const segments: string[] = [];
  for (const raw of path.split('/')) {
    const segment = safeDecode(raw);
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(percentEncode(segment));
  }
  return segments.length === 0 ? '/' : `/${segments.join('/')}/`;
}

/** python-dis: `k=v` strings sorted as wholes, an empty value gives a bare `k`. */
function pythonQuery(search: string): string {
  return parseQuery(search)
    .map(([k, v]) => (v === '' ? percentEncode(k) : `${percentEncode(k)}=${percentEncode(v)}`))
    .sort()
    .join('&');
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** All canonical requests an official signer could have built; undefined when a signed header is missing. */
export function canonicalRequestVariants(
  req: ArrivedRequest,
  signedHeaders: readonly string[],
): string[] | undefined {
  const values: string[] = [];
  for (const name of signedHeaders) {
    const value = headerValue(req.headers, name);
    if (value === undefined) return undefined;
    values.push(value.trim());
  }
  const hostIndex = signedHeaders.indexOf('host');
  const host = values[hostIndex];
  // python-dis signs host without its port whatever the URL says.
  const hosts = host === undefined ? [undefined] : unique([host, host.replace(/:\d+$/, '')]);
  const valueSets: string[][] = [];
  for (const hostValue of hosts) {
    const withHost = values.map((v, i) =>
      i === hostIndex && hostValue !== undefined ? hostValue : v,
    );
    // v3 signers keep inner whitespace; java-dis collapses runs of it.
    valueSets.push(
      withHost,
      withHost.map((v) => v.replace(/\s+/g, ' ')),
    );
  }
  const blocks = unique(
    valueSets.map((set) => signedHeaders.map((name, i) => `${name}:${set[i] ?? ''}\n`).join('')),
  );
  const contentSha = signedHeaders.includes('x-sdk-content-sha256')
    ? headerValue(req.headers, 'x-sdk-content-sha256')
    : undefined;
  const payloadHash = contentSha ?? sha256Hex(req.body);
  const uris = unique([canonicalUri(req.path), javaUri(req.path), pythonUri(req.path)]);
  const queries = unique([canonicalQuery(parseQuery(req.search)), pythonQuery(req.search)]);
  const signedLine = signedHeaders.join(';');
  const out: string[] = [];
  for (const uri of uris) {
    for (const query of queries) {
      for (const block of blocks) {
        out.push(
          canonicalRequest({
            method: req.method,
            uri,
            query,
            headers: { signedHeaders: signedLine, block },
            payloadHash,
          }),
        );
      }
    }
  }
  return out;
}

export function hexEquals(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** v3 form (dis-api.md §6.2): 3-line string to sign, the raw SK as the HMAC key. */
export function verifyV3Signature(
  req: ArrivedRequest,
  auth: ParsedAuthorization,
  sdkDate: string,
  sk: string,
): boolean {
  const candidates = canonicalRequestVariants(req, auth.signedHeaders) ?? [];
  return candidates.some((canonical) => {
    const stringToSign = `SDK-HMAC-SHA256\n${sdkDate}\n${sha256Hex(canonical)}`;
    return hexEquals(hmacSha256(sk, stringToSign).toString('hex'), auth.signature);
  });
}

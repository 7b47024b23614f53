import { createHash, createHmac } from 'node:crypto';

// The pieces of the SDK-HMAC-SHA256 canonical request (dis-api.md §6.2). Shared by the signer and by
// the emulator, which must rebuild exactly what a client signed.

export const EMPTY_PAYLOAD_SHA256 =
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const NOT_UNRESERVED = /[!'()*]/g;

/** RFC 3986 encoding: keep `A-Z a-z 0-9 - _ . ~`, every other UTF-8 byte becomes `%XX` uppercase. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(
    NOT_UNRESERVED,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    // Not valid percent-encoding: sign what is there rather than fail; the server sees the same bytes.
    return segment;
  }
}

/**
 * Canonical URI: each path segment decoded once and encoded with {@link percentEncode}, and a `/`
 * appended unless the path already ends with one (`/v2/p/records` → `/v2/p/records/`).
 */
export function canonicalUri(pathname: string): string {
  const encoded = pathname
    .split('/')
    .map((segment) => percentEncode(decodeSegment(segment)))
    .join('/');
  if (encoded === '') return '/';
  return encoded.endsWith('/') ? encoded : `${encoded}/`;
}

/**
 * Decoded query pairs in order. Unlike URLSearchParams, `+` stays `+`: the signers never treat it as a
 * space.
 */
export function parseQuery(search: string): [string, string][] {
  const raw = search.startsWith('?') ? search.slice(1) : search;
  if (raw === '') return [];
  return raw.split('&').map((part) => {
    const eq = part.indexOf('=');
    const key = eq === -1 ? part : part.slice(0, eq);
    const value = eq === -1 ? '' : part.slice(eq + 1);
    return [decodeSegment(key), decodeSegment(value)];
  });
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Canonical query string from decoded pairs: keys and values encoded, sorted by decoded key, a repeated
 * key contributes one `k=v` per value (values sorted), an empty value gives `k=`.
 */
export function canonicalQuery(pairs: Iterable<readonly [string, string]>): string {
  const byKey = new Map<string, string[]>();
  for (const [key, value] of pairs) {
    const values = byKey.get(key);
    if (values === undefined) byKey.set(key, [percentEncode(value)]);
    else values.push(percentEncode(value));
  }
  const parts: string[] = [];
  for (const key of [...byKey.keys()].sort(byCodeUnit)) {
    const encodedKey = percentEncode(key);
    for (const value of (byKey.get(key) ?? []).sort(byCodeUnit))
      parts.push(`${encodedKey}=${value}`);
  }
  return parts.join('&');
}

export interface CanonicalHeaders {
  /** Lowercased names sorted and joined with `;`. */
  readonly signedHeaders: string;
  /** `name:value\n` for each signed header, in order (ends with a newline). */
  readonly block: string;
}

/** Lowercased, code-point-sorted header names with trimmed values. */
export function canonicalHeaders(headers: Readonly<Record<string, string>>): CanonicalHeaders {
  const entries = Object.entries(headers).map(
    ([name, value]) => [name.toLowerCase(), value.trim()] as const,
  );
  entries.sort(([a], [b]) => byCodeUnit(a, b));
  let block = '';
  for (const [name, value] of entries) block += `${name}:${value}\n`;
  return { signedHeaders: entries.map(([name]) => name).join(';'), block };
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function hmacSha256(key: string | Uint8Array, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** `YYYYMMDDTHHMMSSZ` in UTC, the `X-Sdk-Date` format. */
export function formatSdkDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

const SDK_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Parses `X-Sdk-Date`; undefined when it is not of that form or not a real instant. */
export function parseSdkDate(value: string): Date | undefined {
  const m = SDK_DATE.exec(value);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number);
  if (y === undefined || mo === undefined || d === undefined) return undefined;
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const date = new Date(ms);
  return formatSdkDate(date) === value ? date : undefined;
}

export interface CanonicalRequestParts {
  readonly method: string;
  readonly uri: string;
  readonly query: string;
  readonly headers: CanonicalHeaders;
  readonly payloadHash: string;
}

export function canonicalRequest(parts: CanonicalRequestParts): string {
  return [
    parts.method.toUpperCase(),
    parts.uri,
    parts.query,
    parts.headers.block,
    parts.headers.signedHeaders,
    parts.payloadHash,
  ].join('\n');
}

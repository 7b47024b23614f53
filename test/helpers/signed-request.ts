import { request } from 'undici';
import { signRequest } from '../../src/dis/signer.ts';
import type { AkSkCredentials } from '../../src/dis/signer.ts';

export interface HttpResult {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
  /** Parsed JSON, or undefined for an empty or non-JSON body. */
  readonly json: unknown;
}

export interface PlainCall {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Object → JSON text; string or bytes → sent as is. */
  readonly body?: unknown;
}

function bodyText(body: unknown): string | Uint8Array | undefined {
  if (body === undefined || typeof body === 'string' || body instanceof Uint8Array) return body;
  return JSON.stringify(body);
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** An unsigned request (IAM, admin API, or to prove that auth is required). */
export async function plainRequest(url: string | URL, call: PlainCall = {}): Promise<HttpResult> {
  const body = bodyText(call.body);
  const res = await request(url, {
    method: call.method ?? (body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...call.headers,
    },
    ...(body === undefined ? {} : { body }),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: tryJson(text) };
}

export interface SignedCall extends PlainCall {
  readonly credentials: AkSkCredentials;
  /** The signing instant; tests with an injected clock pass the emulator's time. */
  readonly date: Date;
  readonly projectId?: string;
}

/** A request signed like the v3 SDKs (src/dis/signer.ts) and sent with undici. */
export async function signedRequest(url: string | URL, call: SignedCall): Promise<HttpResult> {
  const target = new URL(url);
  const body = bodyText(call.body) ?? '';
  const method = call.method ?? (body === '' ? 'GET' : 'POST');
  const signed = signRequest({
    method,
    url: target,
    headers: {
      ...(method === 'POST' ? { 'Content-Type': 'application/json' } : {}),
      ...(call.projectId === undefined ? {} : { 'X-Project-Id': call.projectId }),
      ...call.headers,
    },
    body,
    credentials: call.credentials,
    date: call.date,
  });
  const res = await request(target, {
    method,
    headers: signed.headers,
    ...(body === '' ? {} : { body }),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: tryJson(text) };
}

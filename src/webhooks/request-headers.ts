import { fail } from './types.ts';
import type { NormalizedHeaders, VerificationFailure, WebhookRequest } from './types.ts';

export function normalizeHeaders(headers: WebhookRequest['headers']): NormalizedHeaders {
  const normalized = new Map<string, string[]>();
  for (const [name, values] of Object.entries(headers)) {
    if (values === undefined) continue;
    const key = name.toLowerCase();
    const list = normalized.get(key);
    if (list === undefined) normalized.set(key, [...values]);
    else list.push(...values);
  }
  return normalized;
}

export type SingleHeader = { readonly ok: true; readonly value: string } | VerificationFailure;

/**
 * The one value of a header that takes part in verification. A repeated signature, timestamp or id
 * header is refused outright: which copy a proxy or library would pick is exactly the ambiguity
 * an attacker looks for.
 */
export function singleHeader(headers: NormalizedHeaders, name: string): SingleHeader {
  const values = headers.get(name);
  if (values === undefined || values.length === 0) return fail('missing-header');
  const [value] = values;
  if (values.length > 1 || value === undefined) return fail('malformed');
  return { ok: true, value };
}

/** First value of a header, for the envelope's allow-listed headers. */
export function firstHeader(headers: NormalizedHeaders, name: string): string | undefined {
  return headers.get(name)?.[0];
}

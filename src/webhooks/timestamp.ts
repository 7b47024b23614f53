import { fail } from './types.ts';
import type { VerificationFailure } from './types.ts';

// Integer seconds only: no sign, no decimals, no exponent, no spaces. The signature covers the
// header's text, so a lenient parse ('1614265330.0' → 1614265330, as parseInt does) would check
// the tolerance against a value the signer never stated. 12 digits reach past the year 30000.
const INTEGER_SECONDS = /^[0-9]{1,12}$/;

export function parseTimestamp(text: string): number | undefined {
  return INTEGER_SECONDS.test(text) ? Number(text) : undefined;
}

export type TimestampCheck =
  { readonly ok: true; readonly timestamp: number } | VerificationFailure;

/** Refused when more than `toleranceS` away from now in either direction (a sender's clock may run
 *  ahead, but a far-future timestamp would outlive the replay guard's memory). */
export function checkTimestamp(text: string, nowS: number, toleranceS: number): TimestampCheck {
  const timestamp = parseTimestamp(text);
  if (timestamp === undefined) return fail('malformed');
  if (Math.abs(nowS - timestamp) > toleranceS) return fail('timestamp');
  return { ok: true, timestamp };
}

import type { DeliveryBody } from './delivery-body.ts';

/** A request as the route hands it over: the exact raw bytes and every header (all values). */
export interface WebhookRequest {
  /** Names lowercased (Node's `headersDistinct`); other casings are tolerated. */
  readonly headers: Readonly<Record<string, readonly string[] | undefined>>;
  /** Read (UTF-8, JSON) at most once, after the signature holds; the envelope reuses the reading. */
  readonly body: DeliveryBody;
}

export type VerificationFailureReason =
  'missing-header' | 'malformed' | 'timestamp' | 'signature' | 'delivery-id';

export interface VerificationFailure {
  readonly ok: false;
  /** For logs and metrics only, never sent to the caller: every failure is the same bare 401. */
  readonly reason: VerificationFailureReason;
}

export type Verification =
  | {
      readonly ok: true;
      readonly deliveryId: string;
      /** Signed timestamp (s) when the profile has one. */
      readonly timestamp?: number;
      /**
       * Set for a signed handshake (Slack's url_verification): answer it with this, write nothing.
       * Its `deliveryId` is then the profile's own (for logs), never `deliveryIdPointer`'s.
       */
      readonly challenge?: string;
    }
  | VerificationFailure;

export interface WebhookVerifier {
  verify(request: WebhookRequest, nowMs: number): Verification;
}

export type DeliveryIdResult =
  { readonly ok: true; readonly deliveryId: string } | VerificationFailure;

/** Whether a verified body is a handshake to answer (`challenge`) rather than a delivery. */
export type HandshakeResult =
  { readonly ok: true; readonly challenge: string | undefined } | VerificationFailure;

/**
 * What a profile reports once the signature holds. The delivery id is read lazily because a
 * configured `deliveryIdPointer` replaces the profile's own rule (and its required headers).
 */
export type ProfileCheck =
  | {
      readonly ok: true;
      readonly timestamp?: number;
      readonly deliveryId: () => DeliveryIdResult;
      /** Read, like the id, after the verifier's one scan of the body; asked before the id. */
      readonly handshake?: () => HandshakeResult;
    }
  | VerificationFailure;

/** Header names lowercased; every value kept so that duplicates can be refused. */
export type NormalizedHeaders = ReadonlyMap<string, readonly string[]>;

export interface ProfileVerifier {
  /** How many levels into a JSON body the profile's own delivery-id rule reads (0: none). */
  readonly jsonDepth: number;
  check(headers: NormalizedHeaders, body: DeliveryBody, nowS: number): ProfileCheck;
}

const FAILURES: Readonly<Record<VerificationFailureReason, VerificationFailure>> = {
  'missing-header': Object.freeze({ ok: false, reason: 'missing-header' }),
  malformed: Object.freeze({ ok: false, reason: 'malformed' }),
  timestamp: Object.freeze({ ok: false, reason: 'timestamp' }),
  signature: Object.freeze({ ok: false, reason: 'signature' }),
  'delivery-id': Object.freeze({ ok: false, reason: 'delivery-id' }),
};

export function fail(reason: VerificationFailureReason): VerificationFailure {
  return FAILURES[reason];
}

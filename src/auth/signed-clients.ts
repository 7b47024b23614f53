import { parseSdkDate } from '../dis/canonical.ts';
import {
  checkSignedHeaders,
  verifySignedRequest,
  type SignatureFailure,
} from '../dis/request-verifier.ts';
import type { ArrivedRequest, ParsedAuthorization } from '../dis/signature-verifier.ts';
import type { Principal } from './principal.ts';

// Clients of the DIS front door that sign with an AK/SK the gateway issued: verified exactly as
// DIS's API gateway verifies (dis/request-verifier.ts, the emulator's verifier too). Two steps so
// that a request whose headers already fail (unknown AK, stale date) is refused before its body is
// read, and the signature over the body is checked once it is in.

export interface SignedClient {
  /** The config's name for it: logs say which client, never its SK. */
  readonly name: string;
  readonly ak: string;
  readonly sk: string;
  readonly principal: Principal;
}

export type SignedClientFailure = {
  readonly reason: SignatureFailure;
  /** The client the request named, when its AK is known. */
  readonly client?: string;
};

/** A request whose headers passed: what the signature check needs. */
export interface SignedHeaders {
  readonly client: SignedClient;
  readonly auth: ParsedAuthorization;
  readonly sdkDate: string;
}

export interface SignedClients {
  checkHeaders(
    headers: ArrivedRequest['headers'],
  ):
    | { readonly ok: true; readonly signed: SignedHeaders }
    | ({ readonly ok: false } & SignedClientFailure);
  verify(
    req: ArrivedRequest,
    signed: SignedHeaders,
  ):
    | { readonly ok: true; readonly principal: Principal }
    | ({ readonly ok: false } & SignedClientFailure);
}

export function createSignedClients(options: {
  readonly clients: readonly SignedClient[];
  /** The region a legacy `Credential=` scope must name: the gateway's DIS region. */
  readonly region: string;
  readonly now: () => number;
  /** `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD` (frontdoor.allow_unsigned_payload). */
  readonly allowUnsignedPayload: boolean;
}): SignedClients {
  const byAk = new Map(options.clients.map((client) => [client.ak, client]));
  const lookup = (ak: string) => byAk.get(ak);
  const policy = {
    allowUnsignedPayload: options.allowUnsignedPayload,
    // A signature that does not cover the host could be sent to another gateway holding the
    // same client; one without the date could be replayed for ever.
    requiredSignedHeaders: ['host', 'x-sdk-date'],
  };
  return {
    checkHeaders(headers) {
      const check = checkSignedHeaders(headers, {
        lookup,
        region: options.region,
        now: options.now(),
        ...policy,
      });
      if (!check.ok) {
        const client = check.ak === undefined ? undefined : byAk.get(check.ak)?.name;
        return client === undefined
          ? { ok: false, reason: check.reason }
          : { ok: false, reason: check.reason, client };
      }
      const client = byAk.get(check.auth.ak);
      if (client === undefined) return { ok: false, reason: 'unknown-ak' };
      return { ok: true, signed: { client, auth: check.auth, sdkDate: check.sdkDate } };
    },
    verify(req, signed) {
      const verdict = verifySignedRequest(req, {
        lookup,
        region: options.region,
        // The date was checked on arrival; a slow body must not turn it stale.
        now: parseSdkDate(signed.sdkDate)?.getTime() ?? options.now(),
        ...policy,
      });
      if (!verdict.ok) return { ok: false, reason: verdict.reason, client: signed.client.name };
      return { ok: true, principal: signed.client.principal };
    },
  };
}

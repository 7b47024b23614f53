import type { Dispatcher } from 'undici';
import { InvariantError } from '../errors/coded-error.ts';
import { createCircuitBreaker, type BreakerState } from './breaker.ts';
import { percentEncode } from './canonical.ts';
import { DisError, DisHttpError, errorCodeOf } from './errors.ts';
import { isAuthFailure } from './retry.ts';
import { createRequestSigner } from './request-signer.ts';
import type { AkSkCredentials } from './signer.ts';
import type { TokenProvider } from './token-provider.ts';
import {
  createTransport,
  DEFAULT_TIMEOUTS,
  type TransportResponse,
  type TransportTimeouts,
} from './transport.ts';

// One authenticated HTTP exchange with DIS: signed afresh (or carrying an IAM token), through the
// circuit breaker, reported to the request hook. PutRecords (client.ts) and the management calls
// (management.ts) both go through it; neither retries here.

export type DisAuth =
  | { readonly type: 'aksk'; readonly credentials: AkSkCredentials }
  | { readonly type: 'token'; readonly tokens: TokenProvider };

/** Hooks for metrics and logs on every HTTP exchange. */
export interface DisRequestEvents {
  readonly request?: (event: {
    readonly operation: string;
    readonly status: number | 'error';
    readonly errorCode?: string | undefined;
    /** DIS's own error code (`DIS.4301`, `APIGW.0301`), when it sent one. */
    readonly disCode?: string | undefined;
    /** DIS's `X-Request-Id` of a failed exchange. */
    readonly disRequestId?: string | undefined;
    /** The failure is DIS refusing the gateway's credentials (what trips the breaker). */
    readonly authFailure?: boolean | undefined;
    readonly durationMs: number;
  }) => void;
  readonly breakerState?: (state: BreakerState) => void;
}

/** W3C Trace Context headers of a DIS call's span (observability/trace-context.ts makes them). */
export interface TraceHeaders {
  readonly traceparent: string;
  readonly tracestate?: string | undefined;
}

export interface DisConnectionOptions {
  /** Sent on every DIS request (default `dis-gateway`): how DIS's logs and support tell us apart. */
  readonly userAgent?: string | undefined;
  /** e.g. `https://dis.cn-north-4.myhuaweicloud.com` */
  readonly endpoint: string;
  readonly projectId: string;
  readonly auth: DisAuth;
  readonly now?: (() => number) | undefined;
  readonly dispatcher?: Dispatcher | undefined;
  readonly timeouts?: Partial<TransportTimeouts> | undefined;
  readonly breaker?:
    { readonly failureThreshold?: number; readonly coolDownMs?: number } | undefined;
  readonly events?: DisRequestEvents | undefined;
}

export interface DisExchange {
  readonly operation: string;
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** Below the project: `/records`, `/streams/<name>`; encoded. */
  readonly path: string;
  readonly query?: readonly (readonly [string, string | number | undefined])[];
  readonly body?: string;
  readonly trace?: TraceHeaders | undefined;
}

export interface DisConnection {
  /** Resolves for 2xx; rejects with a DisError (DisHttpError for other statuses). */
  readonly exchange: (request: DisExchange) => Promise<TransportResponse>;
  /** Throws DisCircuitOpenError while the breaker is open and not yet due for a probe. */
  readonly checkBreaker: () => void;
  readonly breakerState: () => BreakerState;
  readonly close: () => Promise<void>;
}

function toQueryString(pairs: DisExchange['query']): string {
  const parts: string[] = [];
  for (const [key, value] of pairs ?? []) {
    if (value !== undefined) parts.push(`${percentEncode(key)}=${percentEncode(String(value))}`);
  }
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

export function createDisConnection(options: DisConnectionOptions): DisConnection {
  const endpoint = new URL(options.endpoint);
  const basePath = endpoint.pathname.replace(/\/+$/, '');
  const projectPath = `${basePath}/v2/${percentEncode(options.projectId)}`;
  const now = options.now ?? Date.now;
  const events = options.events ?? {};
  const userAgent = options.userAgent ?? 'dis-gateway';
  const transport = createTransport({
    origin: endpoint.origin,
    timeouts: { ...DEFAULT_TIMEOUTS, ...options.timeouts },
    dispatcher: options.dispatcher,
    now,
  });
  const breaker = createCircuitBreaker({
    failureThreshold: options.breaker?.failureThreshold ?? 3,
    coolDownMs: options.breaker?.coolDownMs ?? 60_000,
    now,
    onStateChange: events.breakerState,
  });

  const signer =
    options.auth.type === 'aksk'
      ? createRequestSigner(options.auth.credentials, options.projectId)
      : undefined;
  const authorize = async (
    method: DisExchange['method'],
    url: URL,
    body: string,
  ): Promise<{ headers: Record<string, string>; token?: string }> => {
    if (signer !== undefined) return { headers: signer.sign(method, url, body, now()) };
    const headers = { 'Content-Type': 'application/json', 'X-Project-Id': options.projectId };
    if (options.auth.type === 'aksk')
      throw new InvariantError('an AK/SK connection without a signer');
    const token = await options.auth.tokens.getToken();
    return { headers: { ...headers, 'X-Auth-Token': token }, token };
  };

  /** A stale IAM token is renewed once; every other failure leaves as it came. */
  const exchange = async (request: DisExchange): Promise<TransportResponse> => {
    const path = `${projectPath}${request.path}${toQueryString(request.query)}`;
    const url = new URL(path, endpoint.origin);
    const body = request.body ?? '';
    for (let tokenRenewed = false; ; tokenRenewed = true) {
      breaker.acquire();
      const started = now();
      let auth: Awaited<ReturnType<typeof authorize>>;
      try {
        auth = await authorize(request.method, url, body);
      } catch (error) {
        breaker.recordNeutral();
        throw error;
      }
      try {
        const response = await transport.send({
          method: request.method,
          path,
          // Not signed: a proxy that rewrites them must not break the signature.
          headers: withUnsignedHeaders(auth.headers, userAgent, request.trace),
          body: request.body,
        });
        breaker.recordSuccess();
        events.request?.({
          operation: request.operation,
          status: response.status,
          durationMs: now() - started,
        });
        return response;
      } catch (error) {
        if (!(error instanceof DisError)) {
          breaker.recordNeutral();
          throw error;
        }
        events.request?.({
          operation: request.operation,
          status: error instanceof DisHttpError ? error.status : 'error',
          errorCode: errorCodeOf(error),
          disCode: error instanceof DisHttpError ? error.disCode : undefined,
          disRequestId: error instanceof DisHttpError ? error.requestId : undefined,
          authFailure: isAuthFailure(error),
          durationMs: now() - started,
        });
        if (isAuthFailure(error)) {
          if (
            options.auth.type === 'token' &&
            auth.token !== undefined &&
            error instanceof DisHttpError &&
            error.status === 401 &&
            !tokenRenewed
          ) {
            // Most likely the token expired or was revoked: one fresh token, one more try.
            options.auth.tokens.invalidate(auth.token);
            breaker.recordNeutral();
            continue;
          }
          breaker.recordAuthFailure();
        } else if (error instanceof DisHttpError && error.status < 500) {
          breaker.recordSuccess(); // DIS itself answered: the credentials were accepted.
        } else {
          breaker.recordNeutral();
        }
        throw error;
      }
    }
  };

  return {
    exchange,
    checkBreaker: () => {
      breaker.check();
    },
    breakerState: () => breaker.state(),
    close: () => transport.close(),
  };
}

function withUnsignedHeaders(
  signed: Record<string, string>,
  userAgent: string,
  trace: TraceHeaders | undefined,
): Record<string, string> {
  const headers: Record<string, string> = { ...signed, 'User-Agent': userAgent };
  if (trace !== undefined) {
    headers.traceparent = trace.traceparent;
    if (trace.tracestate !== undefined) headers.tracestate = trace.tracestate;
  }
  return headers;
}

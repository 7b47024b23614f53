import type { IncomingHttpHeaders } from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import { z } from 'zod';
import { DisError, DisHttpError } from './errors.ts';

// HTTP to one DIS endpoint over a keep-alive pool; every failure leaves here as a typed DisError.
//
// A request is bounded by its own timeouts (connect, headers, body: dis.request_timeout_ms), never
// cut short by a caller's deadline: abandoning a request that went out does not unsend it, it only
// turns an answer DIS was about to give into "unknown". Callers bound how long they wait themselves
// (the retry budget in client.ts, the answer deadline in ingest), and the answer, when it comes,
// still settles idempotency keys, receipts and metrics. Each request has a hard bound as well
// (requestBoundMs: a wait for a free connection in the pool included), which idempotency locks and
// webhook claims are sized to outlast.
//
// The headers and body timeouts are native timers, not undici's headersTimeout/bodyTimeout: those
// run on undici's coarse timers (a 499 ms tick; a timer counts as started one tick early), so a
// 900 ms headers timeout fired after 550-600 ms in a reproduction, turned an answer on its way into
// an unknown outcome, and the resend wrote the records twice.

export interface TransportTimeouts {
  readonly connectMs: number;
  /** From the request going out to the response headers. */
  readonly headersMs: number;
  /** Between body chunks of the response. */
  readonly bodyMs: number;
}

export const DEFAULT_TIMEOUTS: TransportTimeouts = {
  connectMs: 2000,
  headersMs: 5000,
  bodyMs: 5000,
};

/**
 * The longest one request can take from `send` to its end, whatever holds it up (an upper bound:
 * the headers timer counts from `send`, so connecting falls within it).
 */
export function requestBoundMs(timeouts: TransportTimeouts): number {
  return timeouts.connectMs + timeouts.headersMs + timeouts.bodyMs;
}

export interface TransportOptions {
  readonly origin: string;
  readonly timeouts: TransportTimeouts;
  /** Injected dispatcher (tests, proxies); by default the transport owns a keep-alive Pool. */
  readonly dispatcher?: Dispatcher | undefined;
  readonly connections?: number | undefined;
  readonly now: () => number;
}

export interface TransportRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path and query, already encoded. */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string | undefined;
}

export interface TransportResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

export interface Transport {
  /** Resolves for 2xx; rejects with DisHttpError for other statuses, DisError for transport failures. */
  readonly send: (request: TransportRequest) => Promise<TransportResponse>;
  readonly close: () => Promise<void>;
}

const ErrorBody = z.union([
  z.object({ errorCode: z.string(), message: z.string().optional() }),
  z.object({ error_code: z.string(), error_msg: z.string().optional() }),
]);

/** Both error shapes: DIS's `{errorCode,message}` and the API gateway's `{error_code,error_msg}`. */
export function parseErrorBody(text: string): { code?: string; message?: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return {};
  }
  const parsed = ErrorBody.safeParse(json);
  if (!parsed.success) return {};
  const body = parsed.data;
  const [code, message] =
    'errorCode' in body ? [body.errorCode, body.message] : [body.error_code, body.error_msg];
  return message === undefined ? { code } : { code, message };
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now: number,
): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw.trim() === '') return undefined;
  if (/^\d+$/.test(raw.trim())) return Number(raw.trim()) * 1000;
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

function toTransportError(error: unknown, boundHit: boolean): DisError {
  const code = codeOf(error);
  if (code !== undefined && UNREACHABLE.has(code)) {
    return new DisError('ERR_DIS_UNREACHABLE', `cannot connect to DIS (${code})`, { cause: error });
  }
  if (boundHit || (code !== undefined && TIMEOUTS.has(code))) {
    return new DisError('ERR_DIS_TIMEOUT', 'DIS did not answer in time', {
      cause: error,
      possiblyProcessed: true,
    });
  }
  return new DisError('ERR_DIS_CONNECTION_LOST', `connection to DIS lost (${code ?? 'unknown'})`, {
    cause: error,
    possiblyProcessed: true,
  });
}

export function createTransport(options: TransportOptions): Transport {
  const owned = options.dispatcher === undefined;
  const dispatcher =
    options.dispatcher ??
    new Pool(options.origin, {
      connections: options.connections ?? 32,
      connect: { timeout: options.timeouts.connectMs },
      // Timed in send() instead (see the top of this file).
      headersTimeout: 0,
      bodyTimeout: 0,
      keepAliveTimeout: 4000,
    });

  return {
    send: async (request) => {
      // Timers cleared when their phase is over (AbortSignal.timeout would stay armed for the
      // whole bound): two per DIS request, which batching makes a few per thousand caller requests.
      const abort = new AbortController();
      const expire = (): void => {
        abort.abort(new DOMException('DIS did not answer in time', 'TimeoutError'));
      };
      let timer = setTimeout(expire, options.timeouts.headersMs);
      let response: Dispatcher.ResponseData;
      let text: string;
      try {
        response = await dispatcher.request({
          origin: options.origin,
          method: request.method,
          path: request.path,
          headers: request.headers,
          body: request.body ?? null,
          headersTimeout: 0,
          bodyTimeout: 0,
          signal: abort.signal,
        });
        clearTimeout(timer);
        timer = setTimeout(expire, options.timeouts.bodyMs);
        text = await response.body.text();
      } catch (error) {
        throw toTransportError(error, abort.signal.aborted);
      } finally {
        clearTimeout(timer);
      }
      if (response.statusCode >= 200 && response.statusCode < 300) {
        return { status: response.statusCode, headers: response.headers, text };
      }
      const body = parseErrorBody(text);
      throw new DisHttpError({
        status: response.statusCode,
        disCode: body.code,
        disMessage: body.message,
        retryAfterMs: parseRetryAfter(response.headers['retry-after'], options.now()),
        requestId: headerValue(response.headers['x-request-id']),
      });
    },
    close: async () => {
      if (owned) await dispatcher.close();
    },
  };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

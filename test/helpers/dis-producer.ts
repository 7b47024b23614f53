import { request } from 'undici';
import { canonicalRequest, formatSdkDate, sha256Hex } from '../../src/dis/canonical.ts';
import { legacyAuthorization } from '../../src/dis/legacy-signature.ts';
import { signRequest } from '../../src/dis/signer.ts';

// A DIS producer as the official SDKs build their requests (dis-api.md §6.2–6.3), for tests of the
// gateway's DIS-compatible front door: the v3 SDKs' `Access=` form, java-dis's legacy `Credential=`
// form (every header signed, charset in Content-Type) and python-dis's default derived-key
// `V11-HMAC-SHA256` form (host without its port and x-sdk-date only, Python's JSON separators).

export type SigningForm = 'v3' | 'java-legacy' | 'python-v11';

export interface ProducerCall {
  readonly form: SigningForm;
  readonly method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly url: string;
  readonly ak: string;
  readonly sk: string;
  readonly region: string;
  readonly projectId: string;
  readonly body?: string | Uint8Array;
  readonly contentType?: string;
  readonly date?: Date;
  readonly extraHeaders?: Readonly<Record<string, string>>;
  /** Sent instead of `body`, which is what was signed: a tampered request. */
  readonly sendBody?: string | Uint8Array;
}

export interface ProducerAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly bytes: Buffer;
  readonly text: string;
  readonly json: unknown;
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The headers a producer of that form sends, signed. */
export function producerHeaders(call: ProducerCall): Record<string, string> {
  const url = new URL(call.url);
  const method = call.method ?? (call.body === undefined ? 'GET' : 'POST');
  const body = call.body ?? '';
  const date = call.date ?? new Date();
  const sdkDate = formatSdkDate(date);
  if (call.form === 'v3') {
    const signed = signRequest({
      method,
      url,
      headers: {
        'Content-Type': call.contentType ?? 'application/json',
        'X-Project-Id': call.projectId,
        ...call.extraHeaders,
      },
      body,
      credentials: { ak: call.ak, sk: call.sk },
      date,
    });
    return signed.headers;
  }
  if (call.form === 'java-legacy') {
    const headers: Record<string, string> = {
      'content-type': call.contentType ?? 'application/json; charset=utf-8',
      host: url.host,
      'x-project-id': call.projectId,
      'x-sdk-date': sdkDate,
      ...call.extraHeaders,
    };
    const names = Object.keys(headers).sort();
    const canonical = canonicalRequest({
      method,
      uri: url.pathname,
      query: '',
      headers: {
        signedHeaders: names.join(';'),
        block: names.map((n) => `${n}:${(headers[n] ?? '').replace(/\s+/g, ' ')}\n`).join(''),
      },
      payloadHash: sha256Hex(body),
    });
    const authorization = legacyAuthorization({
      algorithm: 'SDK-HMAC-SHA256',
      ak: call.ak,
      sk: call.sk,
      region: call.region,
      sdkDate,
      canonicalRequest: canonical,
      signedHeaders: names.join(';'),
    });
    return { ...headers, authorization };
  }
  const uri = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
  const canonical = canonicalRequest({
    method,
    uri,
    query: '',
    headers: {
      signedHeaders: 'host;x-sdk-date',
      block: `host:${url.hostname}\nx-sdk-date:${sdkDate}\n`,
    },
    payloadHash: sha256Hex(body),
  });
  const authorization = legacyAuthorization({
    algorithm: 'V11-HMAC-SHA256',
    ak: call.ak,
    sk: call.sk,
    region: call.region,
    sdkDate,
    canonicalRequest: canonical,
    signedHeaders: 'host;x-sdk-date',
  });
  return {
    'x-sdk-date': sdkDate,
    authorization,
    'content-type': call.contentType ?? 'application/json;charset=utf-8',
    'user-agent': 'python-dis-test',
    ...call.extraHeaders,
  };
}

export async function producerRequest(call: ProducerCall): Promise<ProducerAnswer> {
  const method = call.method ?? (call.body === undefined ? 'GET' : 'POST');
  const headers = producerHeaders(call);
  delete headers.host;
  delete headers.Host;
  const res = await request(call.url, {
    method,
    headers,
    ...(call.sendBody !== undefined
      ? { body: call.sendBody }
      : call.body === undefined
        ? {}
        : { body: call.body }),
  });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  const text = bytes.toString('utf8');
  return { status: res.statusCode, headers: res.headers, bytes, text, json: tryJson(text) };
}

/** Python's json.dumps with its default separators: `", "` and `": "`. */
export function pythonJson(value: unknown): string {
  return JSON.stringify(value, null, 1)
    .replace(/\n\s*/g, ' ')
    .replace(/\[ /g, '[')
    .replace(/ \]/g, ']')
    .replace(/\{ /g, '{')
    .replace(/ \}/g, '}');
}

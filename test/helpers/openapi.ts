import { Ajv2020 } from 'ajv/dist/2020.js';
import { OPENAPI_DOCUMENT, type OpenApiMethod } from '../../src/http/openapi.ts';

/** A supertest response, or the answer of a raw request over a socket. */
export interface CheckedAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, unknown>>;
  readonly text: string;
}

/**
 * Headers any answer may carry without the document naming them: HTTP's own framing and
 * connection headers, and helmet's security headers (set on every answer, the same everywhere).
 */
const GENERIC_HEADERS = new Set([
  'content-type',
  'content-length',
  'date',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'vary',
  'content-security-policy',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'origin-agent-cluster',
  'referrer-policy',
  'strict-transport-security',
  'x-content-type-options',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-frame-options',
  'x-permitted-cross-domain-policies',
  'x-xss-protection',
]);

/**
 * The names of a real answer's headers that its response in the document does not list (and that
 * are not generic): empty when every header the gateway sent is documented.
 */
export function undocumentedHeaders(
  res: CheckedAnswer,
  path = '/v1/streams/{stream}/records',
  method: OpenApiMethod = 'post',
): string[] {
  const documented = OPENAPI_DOCUMENT.paths[path]?.[method]?.responses[String(res.status)];
  const names = new Set(Object.keys(documented?.headers ?? {}).map((n) => n.toLowerCase()));
  return Object.keys(res.headers)
    .map((n) => n.toLowerCase())
    .filter((n) => !GENERIC_HEADERS.has(n) && !names.has(n));
}

/**
 * Checks a real answer of one operation (by default the records endpoint) against the OpenAPI
 * document: the status must be documented, and a JSON body must match the schema of its content
 * type. Returns problems (empty = ok).
 */
export function createOpenApiChecker(
  path = '/v1/streams/{stream}/records',
  method: OpenApiMethod = 'post',
): (res: CheckedAnswer) => string[] {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema({ $id: 'doc', components: OPENAPI_DOCUMENT.components });
  const responses = OPENAPI_DOCUMENT.paths[path]?.[method]?.responses;
  return (res) => {
    if (responses === undefined) return [`${method} ${path} is not documented`];
    const documented = responses[String(res.status)];
    if (documented === undefined) return [`status ${res.status} is not documented`];
    const undocumented = undocumentedHeaders(res, path, method);
    if (undocumented.length > 0) return [`undocumented headers: ${undocumented.join(', ')}`];
    const contentType: unknown = res.headers['content-type'];
    const type = (typeof contentType === 'string' ? contentType : '').split(';')[0] ?? '';
    const media = documented.content?.[type];
    if (media === undefined) return [`status ${res.status} with ${type} is not documented`];
    if (media.schema === undefined) return [];
    const ref = media.schema.$ref;
    const validate = ref === undefined ? ajv.compile(media.schema) : ajv.getSchema(`doc${ref}`);
    if (validate === undefined) return [`no schema ${ref ?? ''}`];
    const body: unknown = JSON.parse(res.text);
    return validate(body)
      ? []
      : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
  };
}

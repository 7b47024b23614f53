import { z } from 'zod';
import { problemBodySchema } from '../errors/problem-body.ts';
import {
  acceptedAnswerSchema,
  healthAnswerSchema,
  readinessAnswerSchema,
  receiptAnswerSchema,
  recordsAnswerSchema,
  recordVerdictSchema,
  webhookAcceptedSchema,
  webhookDeliveredSchema,
} from './answers.ts';
import {
  idempotencyKeySchema,
  ndjsonBodySchema,
  preferSchema,
  receiptIdSchema,
  recordInSchema,
  recordsRequestSchema,
  streamNameSchema,
} from './requests.ts';
import {
  apiGatewayErrorSchema,
  disDescribeStreamSchema,
  disErrorSchema,
  disListStreamsSchema,
  disPutRecordsRequestSchema,
  disPutRecordsResultSchema,
} from './frontdoor/schemas.ts';

// The OpenAPI 3.1 description served at /openapi.json, generated from the zod schemas the routes
// build their answers with (answers.ts, errors/problem-body.ts) and those describing the requests
// (requests.ts). Tests validate real answers against it, so it cannot drift from what the gateway
// does. OpenAPI 3.1 schemas are JSON Schema 2020-12, which is what zod emits.

export type JsonSchema = z.core.JSONSchema.BaseSchema;

export interface OpenApiMediaType {
  readonly schema?: JsonSchema;
}

export interface OpenApiHeader {
  readonly description?: string;
  readonly schema: JsonSchema;
}

/** A reference to a header in `components.headers`: each is defined once. */
export interface OpenApiHeaderRef {
  readonly $ref: string;
}

export type ResponseHeaders = Readonly<Record<string, OpenApiHeaderRef>>;

export interface OpenApiResponse {
  readonly description: string;
  readonly headers?: ResponseHeaders;
  readonly content?: Readonly<Record<string, OpenApiMediaType>>;
}

export interface OpenApiParameter {
  readonly name: string;
  readonly in: 'path' | 'header';
  readonly required?: boolean;
  readonly description?: string;
  readonly schema: JsonSchema;
}

export interface OpenApiOperation {
  readonly operationId: string;
  readonly summary: string;
  readonly security?: readonly Readonly<Record<string, readonly string[]>>[];
  readonly parameters?: readonly OpenApiParameter[];
  readonly requestBody?: {
    readonly required: boolean;
    readonly content: Readonly<Record<string, OpenApiMediaType>>;
  };
  readonly responses: Readonly<Record<string, OpenApiResponse>>;
}

export type OpenApiMethod = 'get' | 'post';
export type OpenApiPathItem = Readonly<Partial<Record<OpenApiMethod, OpenApiOperation>>>;

export interface OpenApiDocument {
  readonly openapi: '3.1.0';
  readonly info: { readonly title: string; readonly version: string; readonly description: string };
  readonly servers: readonly { readonly url: string; readonly description: string }[];
  readonly components: {
    readonly headers: Readonly<Record<HeaderComponent, OpenApiHeader>>;
    readonly securitySchemes: Readonly<Record<string, Readonly<Record<string, string>>>>;
    readonly schemas: Readonly<Record<string, JsonSchema>>;
  };
  readonly security: readonly Readonly<Record<string, readonly string[]>>[];
  readonly paths: Readonly<Record<string, OpenApiPathItem>>;
}

const SCHEMAS_PATH = '#/components/schemas/';

/** Components from answers: the shape the gateway sends (`io: 'output'`). */
const ANSWER_COMPONENTS = {
  Problem: problemBodySchema,
  RecordVerdict: recordVerdictSchema,
  RecordsAnswer: recordsAnswerSchema,
  Accepted: acceptedAnswerSchema,
  WebhookDelivered: webhookDeliveredSchema,
  WebhookAccepted: webhookAcceptedSchema,
  Receipt: receiptAnswerSchema,
  Health: healthAnswerSchema,
  Readiness: readinessAnswerSchema,
  DisPutRecordsResult: disPutRecordsResultSchema,
  DisError: disErrorSchema,
  ApiGatewayError: apiGatewayErrorSchema,
  DisDescribeStream: disDescribeStreamSchema,
  DisListStreams: disListStreamsSchema,
} as const;

/** Components from requests: the shape the gateway accepts (`io: 'input'`). */
const REQUEST_COMPONENTS = {
  RecordIn: recordInSchema,
  RecordsRequest: recordsRequestSchema,
  DisPutRecordsRequest: disPutRecordsRequestSchema,
} as const;

type ComponentName = keyof typeof ANSWER_COMPONENTS | keyof typeof REQUEST_COMPONENTS;

function ref(name: ComponentName): JsonSchema {
  return { $ref: `${SCHEMAS_PATH}${name}` };
}

/**
 * A schema as it sits inside the document: zod adds `$schema` (and, for registry members, an `$id`
 * that is the component's own URI); inside OpenAPI the dialect is the document's and a component
 * is named by its key, so both go.
 */
function embedded(schema: JsonSchema): JsonSchema {
  return Object.fromEntries(
    Object.entries(schema).filter(([key]) => key !== '$schema' && key !== '$id'),
  );
}

function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output' = 'input'): JsonSchema {
  return embedded(z.toJSONSchema(schema, { target: 'draft-2020-12', io }));
}

/**
 * Each set of components converted together, so a member used by another (RecordVerdict in
 * RecordsAnswer) becomes a `$ref` to its component instead of a copy.
 */
function componentSchemas(
  components: Readonly<Record<string, z.ZodType>>,
  io: 'input' | 'output',
): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(components)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io,
    uri: (id) => `${SCHEMAS_PATH}${id}`,
  });
  return Object.fromEntries(Object.entries(schemas).map(([id, s]) => [id, embedded(s)]));
}

const HEADERS_PATH = '#/components/headers/';
const digits = z.string().regex(/^\d+$/);
const text = jsonSchemaOf(z.string());

/**
 * Every header the gateway sets on its answers, defined once and referenced from each response
 * that can carry it (the key is the header's name, so a response's header map is built from these
 * keys). Tests compare real answers' header names with what their response documents.
 */
const HEADER_COMPONENTS = {
  'X-Request-Id': {
    description:
      'The request id: the caller’s `X-Request-Id` if it is a safe token, else one the gateway made. On every answer; the logs carry it too.',
    schema: text,
  },
  'Idempotent-Replayed': {
    description:
      '`true`: this answer is the stored verdict of an earlier request with this Idempotency-Key.',
    schema: jsonSchemaOf(z.literal('true')),
  },
  'Preference-Applied': {
    description:
      'The `Prefer` preference the gateway applied: `wait=N` (the wait it used, in seconds) or `respond-async`.',
    schema: text,
  },
  'Retry-After': {
    description: 'Seconds to wait before retrying.',
    schema: jsonSchemaOf(digits),
  },
  RateLimit: {
    description:
      'draft-ietf-httpapi-ratelimit-headers: the most constrained limit (`r` remaining, `t` seconds until reset).',
    schema: text,
  },
  'RateLimit-Policy': {
    description:
      'draft-ietf-httpapi-ratelimit-headers: each limit that applies (`q` quota, `w` window in seconds, `qu` unit, `gw-burst`).',
    schema: text,
  },
  Location: { description: 'The receipt to follow: `/v1/receipts/{id}`.', schema: text },
  'WWW-Authenticate': { description: 'The Bearer challenge (RFC 6750).', schema: text },
  Allow: { description: 'The methods this path answers.', schema: text },
  'Cache-Control': { description: '`no-store`: the answer is a current state.', schema: text },
} as const satisfies Record<string, OpenApiHeader>;

type HeaderComponent = keyof typeof HEADER_COMPONENTS;

/** References to the named header components, X-Request-Id always among them. */
function headers(...names: readonly HeaderComponent[]): ResponseHeaders {
  return Object.fromEntries(
    ['X-Request-Id', ...names].map((name) => [name, { $ref: `${HEADERS_PATH}${name}` }]),
  );
}

function problemResponse(
  description: string,
  headerNames: readonly HeaderComponent[] = [],
): OpenApiResponse {
  return {
    description,
    headers: headers(...headerNames),
    content: { 'application/problem+json': { schema: ref('Problem') } },
  };
}

function jsonResponse(
  description: string,
  schema: ComponentName,
  headerNames: readonly HeaderComponent[] = [],
): OpenApiResponse {
  return {
    description,
    headers: headers(...headerNames),
    content: { 'application/json': { schema: ref(schema) } },
  };
}

/**
 * The records route charges the rate limiter and reads `Prefer` before it answers, so an answer
 * from then on carries the RateLimit headers (and Preference-Applied when `Prefer: wait` was
 * sent); answers before that (401, 403, 404, 415, ...) simply lack them.
 */
const RECORDS_COMMON: readonly HeaderComponent[] = [
  'RateLimit',
  'RateLimit-Policy',
  'Preference-Applied',
];
/** Answers that can be a stored verdict replayed for a repeated Idempotency-Key. */
const RECORDS_VERDICT: readonly HeaderComponent[] = [...RECORDS_COMMON, 'Idempotent-Replayed'];

/** The signature headers of each webhook profile: optional, since each source uses one profile. */
function webhookHeader(name: string, description: string): OpenApiParameter {
  return { name, in: 'header', required: false, description, schema: text };
}

function pathParameter(name: string, schema: z.ZodType): OpenApiParameter {
  return { name, in: 'path', required: true, schema: jsonSchemaOf(schema) };
}

/** W3C Trace Context, read on every route that reaches DIS (README "Trace context"). */
const TRACE_PARAMETERS: readonly OpenApiParameter[] = [
  {
    name: 'traceparent',
    in: 'header',
    schema: { type: 'string', pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}' },
    description:
      'W3C Trace Context: a valid one is continued (access log, DIS call); anything else starts a new trace.',
  },
  {
    name: 'tracestate',
    in: 'header',
    schema: { type: 'string', maxLength: 512 },
    description: 'Passed on with the trace when every member is well-formed.',
  },
];

const recordsOperation: OpenApiOperation = {
  operationId: 'writeRecords',
  summary: 'Write records to a stream',
  parameters: [
    pathParameter('stream', streamNameSchema),
    { name: 'Idempotency-Key', in: 'header', schema: jsonSchemaOf(idempotencyKeySchema) },
    ...TRACE_PARAMETERS,
    {
      name: 'Prefer',
      in: 'header',
      schema: jsonSchemaOf(preferSchema),
      description:
        '`wait=N`: seconds the gateway may spend retrying before it answers; `respond-async`: answer 202 once the records are in the spool.',
    },
  ],
  requestBody: {
    required: true,
    content: {
      'application/json': { schema: ref('RecordsRequest') },
      'application/x-ndjson': { schema: jsonSchemaOf(ndjsonBodySchema) },
    },
  },
  responses: {
    '200': jsonResponse('Every record was written', 'RecordsAnswer', RECORDS_VERDICT),
    '207': jsonResponse(
      'Some records failed; each verdict says whether to retry it',
      'RecordsAnswer',
      RECORDS_VERDICT,
    ),
    '202': jsonResponse(
      'Prefer: respond-async: the records are in the spool; follow the receipt',
      'Accepted',
      ['Location', ...RECORDS_VERDICT],
    ),
    '400': problemResponse(
      'Malformed body, invalid records (with pointers) or header',
      RECORDS_COMMON,
    ),
    '401': problemResponse('Missing or invalid bearer token', ['WWW-Authenticate']),
    '403': problemResponse('The token lacks dis:write:<stream>', ['WWW-Authenticate']),
    '404': problemResponse('Unknown stream'),
    '405': problemResponse('Only POST', ['Allow']),
    '409': problemResponse(
      'A request with this Idempotency-Key is still running, or its DIS call still has no answer',
      ['Retry-After', ...RECORDS_VERDICT],
    ),
    '413': problemResponse('Body, record count or a record over its limit', RECORDS_COMMON),
    '415': problemResponse('Not application/json or application/x-ndjson in UTF-8'),
    '422': problemResponse('Idempotency-Key reused with another body', RECORDS_COMMON),
    '429': problemResponse('Rate limited', ['Retry-After', 'RateLimit', 'RateLimit-Policy']),
    '502': problemResponse(
      'DIS refused the gateway’s request (nothing was written), or answered unreadably (the records may have been written)',
      RECORDS_VERDICT,
    ),
    '503': problemResponse(
      'DIS or a required store unavailable, or the write not confirmed by enough Redis replicas (ERR_REDIS_REPLICATION_TIMEOUT); the detail says whether anything was written',
      ['Retry-After', ...RECORDS_VERDICT],
    ),
    '504': problemResponse(
      'DIS did not answer within the wait; the records may still be written (with an Idempotency-Key, a retry gets their verdict once DIS has answered)',
      RECORDS_VERDICT,
    ),
  },
};

const webhooksOperation: OpenApiOperation = {
  operationId: 'deliverWebhook',
  summary: 'A webhook delivery from a configured source, verified over its raw bytes',
  security: [],
  parameters: [
    pathParameter('source', streamNameSchema),
    ...TRACE_PARAMETERS,
    webhookHeader('webhook-id', 'Profile `standard-webhooks`: the delivery id.'),
    webhookHeader('webhook-timestamp', 'Profile `standard-webhooks`: Unix seconds when signed.'),
    webhookHeader(
      'webhook-signature',
      'Profile `standard-webhooks`: space-separated `v1,<base64 HMAC-SHA256>` signatures.',
    ),
    webhookHeader(
      'X-Hub-Signature-256',
      'Profile `github`: `sha256=<hex HMAC-SHA256>` of the raw body.',
    ),
    webhookHeader('X-GitHub-Delivery', 'Profile `github`: the delivery id.'),
    webhookHeader(
      'Stripe-Signature',
      'Profile `stripe`: `t=<unix seconds>,v1=<hex HMAC-SHA256>` (several v1 during secret rotation).',
    ),
    webhookHeader(
      'X-Slack-Signature',
      'Profile `slack`: `v0=<hex HMAC-SHA256>` over `v0:<timestamp>:<body>`.',
    ),
    webhookHeader('X-Slack-Request-Timestamp', 'Profile `slack`: Unix seconds when signed.'),
  ],
  requestBody: {
    required: true,
    content: { '*/*': { schema: { type: 'string', format: 'binary' } } },
  },
  responses: {
    '200': jsonResponse(
      'Sync mode: written; or a repeated delivery id: `{"duplicate":true,"delivery_id"}`; or a signed Slack `url_verification`: `{"challenge"}` (nothing written)',
      'WebhookDelivered',
    ),
    '202': jsonResponse(
      'Async mode: in the spool, `{"delivery_id","receipt"}`',
      'WebhookAccepted',
      ['Location'],
    ),
    '401': problemResponse('Signature, timestamp or delivery id not valid (no detail)'),
    '404': problemResponse('Unknown source'),
    '409': problemResponse(
      'An earlier attempt of this delivery is still being accepted (or, sync mode, its DIS write has no known outcome yet)',
      ['Retry-After'],
    ),
    '413': problemResponse('Body over the source’s limit, or the envelope over a DIS record'),
    '503': problemResponse(
      'Spool full, Redis needed and down, the spool write not confirmed by a replica, or (sync) DIS unavailable',
      ['Retry-After'],
    ),
    '504': problemResponse(
      'Sync mode: DIS did not answer in time; the delivery may still be written',
      ['Retry-After'],
    ),
  },
};

const receiptsOperation: OpenApiOperation = {
  operationId: 'getReceipt',
  summary: 'What became of records accepted with 202 (the sender, or dis:receipts:read)',
  parameters: [pathParameter('id', receiptIdSchema)],
  responses: {
    '200': jsonResponse('The receipt', 'Receipt', ['Cache-Control']),
    '401': problemResponse('Missing or invalid bearer token', ['WWW-Authenticate']),
    '404': problemResponse('Unknown, expired, or not yours'),
  },
};

/** The DIS front door (README "DIS-compatible front door"): DIS's own shapes, DIS's signatures. */
const FRONTDOOR_SECURITY = [{ disAkSk: [] }, { xAuthToken: [] }];
const projectParameter: OpenApiParameter = {
  name: 'project_id',
  in: 'path',
  required: true,
  description: 'The DIS project the gateway writes to (another is 400 DIS.4117)',
  schema: jsonSchemaOf(z.string()),
};
const disError = (description: string, headerNames: readonly HeaderComponent[] = []) =>
  jsonResponse(description, 'DisError', headerNames);
const FRONTDOOR_REFUSALS = {
  '401': jsonResponse(
    'A refused signature or token: one body whatever the reason',
    'ApiGatewayError',
  ),
  '403': disError('DIS.4116: the client may not write to this stream'),
} as const;

const putDisRecordsOperation: OpenApiOperation = {
  operationId: 'putDisRecords',
  summary: 'DIS PutRecords through the gateway (JSON or protobuf)',
  security: FRONTDOOR_SECURITY,
  parameters: [projectParameter, ...TRACE_PARAMETERS],
  requestBody: {
    required: true,
    content: {
      'application/json': { schema: ref('DisPutRecordsRequest') },
      'application/x-protobuf': {},
    },
  },
  responses: {
    '200': {
      description:
        'Every record’s result in request order; records over a gateway limit carry DIS.4303. Protobuf for a protobuf request.',
      headers: headers('RateLimit', 'RateLimit-Policy'),
      content: {
        'application/json': { schema: ref('DisPutRecordsResult') },
        'application/x-protobuf': {},
      },
    },
    '400': disError('DIS.4200, DIS.4201, DIS.4202, DIS.4301 or DIS.4117: nothing was written'),
    ...FRONTDOOR_REFUSALS,
    '413': disError('DIS.4200: more records or bytes than the gateway takes in one call'),
    '415': disError('DIS.4200: another media type, or a Content-Encoding'),
    '502': disError('DIS.5000: DIS refused the gateway’s request; nothing was written'),
    '503': disError('DIS.5000: DIS cannot be reached, or limits cannot be checked', [
      'Retry-After',
    ]),
    '504': disError('DIS.5000: DIS did not answer in time; the records may have been written'),
  },
};

const describeDisStreamOperation: OpenApiOperation = {
  operationId: 'describeDisStream',
  summary: 'DIS DescribeStream of a stream the caller may write (from DIS, cached briefly)',
  security: FRONTDOOR_SECURITY,
  parameters: [
    projectParameter,
    {
      name: 'stream_name',
      in: 'path',
      required: true,
      schema: jsonSchemaOf(z.string()),
    },
  ],
  responses: {
    '200': jsonResponse('DIS’s description of the stream', 'DisDescribeStream'),
    '400': disError('DIS.4301 (not a configured stream), DIS.4117 or DIS.4200'),
    ...FRONTDOOR_REFUSALS,
    '502': disError('DIS.5000: DIS refused the gateway’s credentials'),
    '503': disError('DIS.5000: DIS cannot be reached', ['Retry-After']),
  },
};

const listDisStreamsOperation: OpenApiOperation = {
  operationId: 'listDisStreams',
  summary: 'DIS ListStreams: the configured streams the caller may write',
  security: FRONTDOOR_SECURITY,
  parameters: [projectParameter],
  responses: {
    '200': jsonResponse('The streams, each described by DIS', 'DisListStreams'),
    '400': disError('DIS.4117 or DIS.4200'),
    '401': FRONTDOOR_REFUSALS['401'],
    '502': disError('DIS.5000: DIS refused the gateway’s credentials'),
    '503': disError('DIS.5000: DIS cannot be reached', ['Retry-After']),
  },
};

function buildOpenApiDocument(): OpenApiDocument {
  return {
    openapi: '3.1.0',
    info: {
      title: 'dis-gateway',
      version: '0.1.0',
      description:
        'Ingestion gateway in front of Huawei Cloud DIS. Every record is either written (partition and sequence number) or reported failed with whether to retry it.',
    },
    // Relative to where the document was fetched (OpenAPI 3.1 §4.8.5): the gateway does not know
    // the host or scheme it is reached by behind a proxy.
    servers: [{ url: '/', description: 'this gateway' }],
    components: {
      headers: HEADER_COMPONENTS,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        disAkSk: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description:
            'A DIS AK/SK signature (SDK-HMAC-SHA256 Access= or Credential=, V11-HMAC-SHA256) with an AK/SK the gateway issued (frontdoor.clients)',
        },
        xAuthToken: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Auth-Token',
          description: 'A gateway JWT, as DIS SDKs send an IAM token',
        },
      },
      schemas: {
        ...componentSchemas(ANSWER_COMPONENTS, 'output'),
        ...componentSchemas(REQUEST_COMPONENTS, 'input'),
      },
    },
    security: [{ bearer: [] }],
    paths: {
      '/v1/streams/{stream}/records': { post: recordsOperation },
      '/v1/webhooks/{source}': { post: webhooksOperation },
      '/v1/receipts/{id}': { get: receiptsOperation },
      '/v2/{project_id}/records': { post: putDisRecordsOperation },
      '/v2/{project_id}/streams': { get: listDisStreamsOperation },
      '/v2/{project_id}/streams/{stream_name}': { get: describeDisStreamOperation },
      '/healthz': {
        get: {
          operationId: 'getHealth',
          summary: 'The process answers',
          security: [],
          responses: { '200': jsonResponse('alive', 'Health', ['Cache-Control']) },
        },
      },
      '/readyz': {
        get: {
          operationId: 'getReadiness',
          summary: 'Whether this instance should get traffic',
          security: [],
          responses: {
            '200': jsonResponse('ready, with each dependency’s state', 'Readiness', [
              'Cache-Control',
            ]),
            '503': jsonResponse(
              'draining, Redis down under fail-closed, or the DIS breaker open',
              'Readiness',
              ['Cache-Control'],
            ),
          },
        },
      },
      '/metrics': {
        get: {
          operationId: 'getMetrics',
          summary: 'Prometheus metrics',
          security: [],
          responses: {
            '200': {
              description: 'text format',
              headers: headers(),
              content: { 'text/plain': {} },
            },
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'getOpenApiDocument',
          summary: 'This document',
          security: [],
          responses: {
            '200': {
              description: 'OpenAPI 3.1 document',
              headers: headers(),
              content: { 'application/json': {} },
            },
          },
        },
      },
    },
  };
}

/** Built once at import; plain data from then on. */
export const OPENAPI_DOCUMENT: OpenApiDocument = buildOpenApiDocument();

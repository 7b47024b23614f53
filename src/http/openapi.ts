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

export interface OpenApiResponse {
  readonly description: string;
  readonly headers?: Readonly<Record<string, OpenApiHeader>>;
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
  readonly components: {
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
} as const;

/** Components from requests: the shape the gateway accepts (`io: 'input'`). */
const REQUEST_COMPONENTS = {
  RecordIn: recordInSchema,
  RecordsRequest: recordsRequestSchema,
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

function problemResponse(
  description: string,
  headers: Readonly<Record<string, OpenApiHeader>> = {},
): OpenApiResponse {
  return {
    description,
    headers,
    content: { 'application/problem+json': { schema: ref('Problem') } },
  };
}

function jsonResponse(
  description: string,
  schema: ComponentName,
  headers?: Readonly<Record<string, OpenApiHeader>>,
): OpenApiResponse {
  const content = { 'application/json': { schema: ref(schema) } };
  return headers === undefined ? { description, content } : { description, headers, content };
}

const digits = z.string().regex(/^\d+$/);
const retryAfter = { 'Retry-After': { schema: jsonSchemaOf(digits) } };
const rateLimitHeaders = {
  RateLimit: { schema: jsonSchemaOf(z.string()) },
  'RateLimit-Policy': { schema: jsonSchemaOf(z.string()) },
};
const wwwAuthenticate = { 'WWW-Authenticate': { schema: jsonSchemaOf(z.string()) } };

function pathParameter(name: string, schema: z.ZodType): OpenApiParameter {
  return { name, in: 'path', required: true, schema: jsonSchemaOf(schema) };
}

const recordsOperation: OpenApiOperation = {
  summary: 'Write records to a stream',
  parameters: [
    pathParameter('stream', streamNameSchema),
    { name: 'Idempotency-Key', in: 'header', schema: jsonSchemaOf(idempotencyKeySchema) },
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
    '200': jsonResponse('Every record was written', 'RecordsAnswer', rateLimitHeaders),
    '207': jsonResponse(
      'Some records failed; each verdict says whether to retry it',
      'RecordsAnswer',
      rateLimitHeaders,
    ),
    '202': jsonResponse(
      'Prefer: respond-async: the records are in the spool; follow the receipt',
      'Accepted',
      { Location: { schema: jsonSchemaOf(z.string()) }, ...rateLimitHeaders },
    ),
    '400': problemResponse('Malformed body, invalid records (with pointers) or header'),
    '401': problemResponse('Missing or invalid bearer token', wwwAuthenticate),
    '403': problemResponse('The token lacks dis:write:<stream>', wwwAuthenticate),
    '404': problemResponse('Unknown stream'),
    '405': problemResponse('Only POST', { Allow: { schema: jsonSchemaOf(z.string()) } }),
    '409': problemResponse(
      'A request with this Idempotency-Key is still running, or its DIS call still has no answer',
      retryAfter,
    ),
    '413': problemResponse('Body, record count or a record over its limit'),
    '415': problemResponse('Not application/json or application/x-ndjson in UTF-8'),
    '422': problemResponse('Idempotency-Key reused with another body'),
    '429': problemResponse('Rate limited', { ...retryAfter, ...rateLimitHeaders }),
    '502': problemResponse(
      'DIS refused the gateway’s request (nothing was written), or answered unreadably (the records may have been written)',
    ),
    '503': problemResponse(
      'DIS or a required store unavailable, or the write not confirmed by enough Redis replicas (ERR_REDIS_REPLICATION_TIMEOUT); the detail says whether anything was written',
      retryAfter,
    ),
    '504': problemResponse(
      'DIS did not answer within the wait; the records may still be written (with an Idempotency-Key, a retry gets their verdict once DIS has answered)',
    ),
  },
};

const webhooksOperation: OpenApiOperation = {
  summary: 'A webhook delivery from a configured source, verified over its raw bytes',
  security: [],
  parameters: [pathParameter('source', streamNameSchema)],
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
      {
        Location: { schema: jsonSchemaOf(z.string()) },
      },
    ),
    '401': problemResponse('Signature, timestamp or delivery id not valid (no detail)'),
    '404': problemResponse('Unknown source'),
    '409': problemResponse(
      'An earlier attempt of this delivery is still being accepted (or, sync mode, its DIS write has no known outcome yet)',
      retryAfter,
    ),
    '413': problemResponse('Body over the source’s limit, or the envelope over a DIS record'),
    '503': problemResponse(
      'Spool full, Redis needed and down, the spool write not confirmed by a replica, or (sync) DIS unavailable',
      retryAfter,
    ),
    '504': problemResponse(
      'Sync mode: DIS did not answer in time; the delivery may still be written',
      retryAfter,
    ),
  },
};

const receiptsOperation: OpenApiOperation = {
  summary: 'What became of records accepted with 202 (the sender, or dis:receipts:read)',
  parameters: [pathParameter('id', receiptIdSchema)],
  responses: {
    '200': jsonResponse('The receipt', 'Receipt'),
    '401': problemResponse('Missing or invalid bearer token'),
    '404': problemResponse('Unknown, expired, or not yours'),
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
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
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
      '/healthz': {
        get: {
          summary: 'The process answers',
          security: [],
          responses: { '200': jsonResponse('alive', 'Health') },
        },
      },
      '/readyz': {
        get: {
          summary: 'Whether this instance should get traffic',
          security: [],
          responses: {
            '200': jsonResponse('ready, with each dependency’s state', 'Readiness'),
            '503': jsonResponse(
              'draining, Redis down under fail-closed, or the DIS breaker open',
              'Readiness',
            ),
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          security: [],
          responses: { '200': { description: 'text format', content: { 'text/plain': {} } } },
        },
      },
      '/openapi.json': {
        get: {
          summary: 'This document',
          security: [],
          responses: {
            '200': { description: 'OpenAPI 3.1 document', content: { 'application/json': {} } },
          },
        },
      },
    },
  };
}

/** Built once at import; plain data from then on. */
export const OPENAPI_DOCUMENT: OpenApiDocument = buildOpenApiDocument();

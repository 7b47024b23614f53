// The OpenAPI 3.1 description served at /openapi.json. Tests validate real answers against the
// response schemas here, so it cannot drift from what the gateway does.

const problem = {
  type: 'object',
  required: ['type', 'title', 'status', 'code'],
  properties: {
    type: { type: 'string', format: 'uri-reference' },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    code: { type: 'string', pattern: '^ERR_[A-Z0-9_]+$' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['pointer', 'detail'],
        properties: { pointer: { type: 'string' }, detail: { type: 'string' } },
        additionalProperties: false,
      },
    },
  },
};

const recordVerdict = {
  oneOf: [
    {
      type: 'object',
      required: ['status', 'partition_id', 'sequence_number'],
      properties: {
        id: { type: 'string' },
        status: { const: 'ok' },
        partition_id: { type: 'string', pattern: '^shardId-\\d{10}$' },
        sequence_number: { type: 'string', pattern: '^\\d+$' },
      },
      additionalProperties: false,
    },
    {
      type: 'object',
      required: ['status', 'error_code', 'error_message', 'retryable'],
      properties: {
        id: { type: 'string' },
        status: { const: 'failed' },
        error_code: { type: 'string' },
        error_message: { type: 'string' },
        retryable: { type: 'boolean' },
        retry_after_ms: { type: 'integer', minimum: 0 },
      },
      additionalProperties: false,
    },
  ],
};

const recordsAnswer = {
  type: 'object',
  required: ['stream', 'failed_record_count', 'records'],
  properties: {
    stream: { type: 'string' },
    failed_record_count: { type: 'integer', minimum: 0 },
    records: { type: 'array', items: { $ref: '#/components/schemas/RecordVerdict' } },
  },
  additionalProperties: false,
};

const recordIn = {
  type: 'object',
  properties: {
    data: { description: 'Any JSON value; DIS receives the UTF-8 bytes of its JSON text as sent.' },
    data_base64: { type: 'string', contentEncoding: 'base64' },
    id: { type: 'string', maxLength: 256, description: 'Correlation id, echoed in the verdict' },
    partition_key: { type: 'string', maxLength: 256 },
    partition_id: { type: 'string', pattern: '^(shardId-\\d{10}|\\d+)$' },
    explicit_hash_key: { type: 'string', pattern: '^(0|[1-9]\\d{0,18})$' },
  },
  oneOf: [{ required: ['data'] }, { required: ['data_base64'] }],
  additionalProperties: false,
};

const problemResponse = (description: string, headers: Record<string, unknown> = {}) => ({
  description,
  headers,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

const retryAfter = { 'Retry-After': { schema: { type: 'string', pattern: '^\\d+$' } } };
const rateLimitHeaders = {
  RateLimit: { schema: { type: 'string' } },
  'RateLimit-Policy': { schema: { type: 'string' } },
};

export const OPENAPI_DOCUMENT = {
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
      Problem: problem,
      RecordVerdict: recordVerdict,
      RecordsAnswer: recordsAnswer,
      RecordIn: recordIn,
      Accepted: {
        type: 'object',
        required: ['stream', 'receipt', 'accepted_record_count'],
        properties: {
          stream: { type: 'string' },
          receipt: { type: 'string' },
          accepted_record_count: { type: 'integer', minimum: 1 },
        },
        additionalProperties: false,
      },
      Receipt: {
        type: 'object',
        required: ['id', 'stream', 'status', 'accepted_at', 'records'],
        properties: {
          id: { type: 'string' },
          stream: { type: 'string' },
          status: { enum: ['pending', 'written', 'dead_lettered', 'partial'] },
          accepted_at: { type: 'string', format: 'date-time' },
          records: {
            type: 'array',
            items: {
              type: 'object',
              required: ['status'],
              properties: {
                status: { enum: ['pending', 'written', 'dead_lettered'] },
                partition_id: { type: 'string' },
                sequence_number: { type: 'string' },
                error_code: { type: 'string' },
                error_message: { type: 'string' },
              },
            },
          },
        },
      },
    },
  },
  security: [{ bearer: [] }],
  paths: {
    '/v1/streams/{stream}/records': {
      post: {
        summary: 'Write records to a stream',
        parameters: [
          {
            name: 'stream',
            in: 'path',
            required: true,
            schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
          },
          { name: 'Idempotency-Key', in: 'header', schema: { type: 'string', maxLength: 255 } },
          {
            name: 'Prefer',
            in: 'header',
            schema: { type: 'string' },
            description: '`wait=N`: seconds the gateway may spend retrying before it answers.',
          },
        ],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['records'],
                properties: {
                  records: {
                    type: 'array',
                    minItems: 1,
                    items: { $ref: '#/components/schemas/RecordIn' },
                  },
                },
                additionalProperties: false,
              },
            },
            'application/x-ndjson': {
              schema: {
                type: 'string',
                description: 'One JSON value per line: each is a record’s data',
              },
            },
          },
        },
        responses: {
          '200': {
            description: 'Every record was written',
            headers: rateLimitHeaders,
            content: {
              'application/json': { schema: { $ref: '#/components/schemas/RecordsAnswer' } },
            },
          },
          '207': {
            description: 'Some records failed; each verdict says whether to retry it',
            headers: rateLimitHeaders,
            content: {
              'application/json': { schema: { $ref: '#/components/schemas/RecordsAnswer' } },
            },
          },
          '202': {
            description: 'Prefer: respond-async: the records are in the spool; follow the receipt',
            headers: { Location: { schema: { type: 'string' } }, ...rateLimitHeaders },
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Accepted' } } },
          },
          '400': problemResponse('Malformed body, invalid records (with pointers) or header'),
          '401': problemResponse('Missing or invalid bearer token', {
            'WWW-Authenticate': { schema: { type: 'string' } },
          }),
          '403': problemResponse('The token lacks dis:write:<stream>', {
            'WWW-Authenticate': { schema: { type: 'string' } },
          }),
          '404': problemResponse('Unknown stream'),
          '405': problemResponse('Only POST', { Allow: { schema: { type: 'string' } } }),
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
      },
    },
    '/v1/webhooks/{source}': {
      post: {
        summary: 'A webhook delivery from a configured source, verified over its raw bytes',
        security: [],
        parameters: [
          {
            name: 'source',
            in: 'path',
            required: true,
            schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
          },
        ],
        requestBody: {
          required: true,
          content: { '*/*': { schema: { type: 'string', format: 'binary' } } },
        },
        responses: {
          '200': {
            description: 'Sync mode: written; or a repeated delivery id: `{"duplicate":true}`',
          },
          '202': { description: 'Async mode: in the spool, `{"delivery_id","receipt"}`' },
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
      },
    },
    '/v1/receipts/{id}': {
      get: {
        summary: 'What became of records accepted with 202 (the sender, or dis:receipts:read)',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          '200': {
            description: 'The receipt',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Receipt' } } },
          },
          '401': problemResponse('Missing or invalid bearer token'),
          '404': problemResponse('Unknown, expired, or not yours'),
        },
      },
    },
    '/healthz': {
      get: {
        summary: 'The process answers',
        security: [],
        responses: { '200': { description: 'alive' } },
      },
    },
    '/readyz': {
      get: {
        summary: 'Whether this instance should get traffic',
        security: [],
        responses: {
          '200': { description: 'ready, with each dependency’s state' },
          '503': { description: 'draining, Redis down under fail-closed, or the DIS breaker open' },
        },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics',
        security: [],
        responses: { '200': { description: 'text format' } },
      },
    },
    '/openapi.json': {
      get: {
        summary: 'This document',
        security: [],
        responses: { '200': { description: 'OpenAPI 3.1 document' } },
      },
    },
  },
} as const;

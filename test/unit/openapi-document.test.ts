import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { AppError } from '../../src/errors/app-error.ts';
import { OPENAPI_DOCUMENT } from '../../src/http/openapi.ts';
import { parseJsonRecords } from '../../src/http/parse/records-body.ts';
import { PARSE_OPTIONS } from '../helpers/records-parse.ts';

// The document is generated; these check it is a coherent OpenAPI 3.1 document and that the
// request schemas say what the parser does. Real answers are checked in the component tests.

function schemaChecker(name: string): (value: unknown) => boolean {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema({ $id: 'doc', components: OPENAPI_DOCUMENT.components });
  const validate = ajv.getSchema(`doc#/components/schemas/${name}`);
  assert.ok(validate, `component ${name}`);
  return (value) => validate(value) === true;
}

/** Every `$ref` in the document, with where it sits. */
function refsOf(node: unknown, at: string): { at: string; ref: string }[] {
  if (Array.isArray(node)) return node.flatMap((item, i) => refsOf(item, `${at}/${i}`));
  if (typeof node !== 'object' || node === null) return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === '$ref' && typeof value === 'string'
      ? [{ at, ref: value }]
      : refsOf(value, `${at}/${key}`),
  );
}

function resolvePointer(root: unknown, pointer: string): unknown {
  let node = root;
  for (const raw of pointer.split('/').slice(1)) {
    const token = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, token)) return undefined;
    node = Object.entries(node).find(([key]) => key === token)?.[1];
  }
  return node;
}

const operations = Object.entries(OPENAPI_DOCUMENT.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([method, operation]) => ({ path, method, operation })),
);

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1.0 and survives a JSON round trip unchanged (plain data)', () => {
    assert.equal(OPENAPI_DOCUMENT.openapi, '3.1.0');
    assert.deepEqual(JSON.parse(JSON.stringify(OPENAPI_DOCUMENT)), OPENAPI_DOCUMENT);
  });

  it('resolves every $ref inside the document', () => {
    const refs = refsOf(OPENAPI_DOCUMENT, '#');
    assert.ok(refs.length > 10, 'the document uses components');
    for (const { at, ref } of refs) {
      assert.match(ref, /^#\//, `${at}: a local reference`);
      assert.notEqual(resolvePointer(OPENAPI_DOCUMENT, ref.slice(1)), undefined, `${at}: ${ref}`);
    }
  });

  it('gives every operation a summary and responses, each with a description', () => {
    assert.ok(operations.length >= 7);
    for (const { path, method, operation } of operations) {
      assert.ok(operation.summary.length > 0, `${method} ${path}`);
      const responses = Object.entries(operation.responses);
      assert.ok(responses.length > 0, `${method} ${path} has responses`);
      for (const [status, response] of responses) {
        assert.match(status, /^[1-5]\d\d$/, `${method} ${path} ${status}`);
        assert.ok(response.description.length > 0, `${method} ${path} ${status} description`);
      }
    }
  });

  it('declares each path template parameter as a required path parameter, and no others', () => {
    for (const { path, method, operation } of operations) {
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const declared = (operation.parameters ?? []).filter((p) => p.in === 'path');
      assert.deepEqual(
        declared.map((p) => p.name),
        templated,
        `${method} ${path}`,
      );
      for (const p of declared) assert.equal(p.required, true, `${method} ${path} ${p.name}`);
    }
  });

  it('holds components that compile as JSON Schema 2020-12, without a dialect or id of their own', () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    ajv.addSchema({ $id: 'doc', components: OPENAPI_DOCUMENT.components });
    for (const [name, schema] of Object.entries(OPENAPI_DOCUMENT.components.schemas)) {
      assert.equal(schema.$schema, undefined, name);
      assert.equal(schema.$id, undefined, name);
      assert.ok(ajv.getSchema(`doc#/components/schemas/${name}`), name);
    }
  });

  it('gives every operation a unique operationId, and names a server', () => {
    const ids = operations.map(({ operation }) => operation.operationId);
    for (const [i, id] of ids.entries()) assert.match(id, /^[a-zA-Z][a-zA-Z0-9]*$/, `${i}`);
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
    assert.deepEqual(OPENAPI_DOCUMENT.servers, [{ url: '/', description: 'this gateway' }]);
  });

  it('defines each header the gateway sends once, and every answer references X-Request-Id', () => {
    const components = OPENAPI_DOCUMENT.components.headers;
    for (const name of [
      'X-Request-Id',
      'Idempotent-Replayed',
      'Preference-Applied',
      'Retry-After',
      'RateLimit',
      'RateLimit-Policy',
      'Location',
      'WWW-Authenticate',
      'Allow',
    ]) {
      assert.ok(Object.hasOwn(components, name), name);
    }
    for (const { path, method, operation } of operations) {
      for (const [status, response] of Object.entries(operation.responses)) {
        const at = `${method} ${path} ${status}`;
        assert.ok(response.headers?.['X-Request-Id'], `${at} documents X-Request-Id`);
        for (const [name, header] of Object.entries(response.headers ?? {})) {
          assert.equal(header.$ref, `#/components/headers/${name}`, `${at} ${name}`);
        }
      }
    }
    const records = OPENAPI_DOCUMENT.paths['/v1/streams/{stream}/records']?.post?.responses;
    const has = (status: string, name: string) =>
      Object.hasOwn(records?.[status]?.headers ?? {}, name);
    for (const status of ['200', '207', '202']) {
      for (const name of ['Idempotent-Replayed', 'Preference-Applied', 'RateLimit']) {
        assert.ok(has(status, name), `records ${status} ${name}`);
      }
    }
    assert.ok(has('202', 'Location'));
    assert.ok(has('401', 'WWW-Authenticate'));
    for (const status of ['409', '429', '503']) assert.ok(has(status, 'Retry-After'), status);
  });

  it('documents each webhook profile’s signature headers as optional header parameters', () => {
    const parameters = OPENAPI_DOCUMENT.paths['/v1/webhooks/{source}']?.post?.parameters ?? [];
    for (const name of [
      'webhook-id',
      'webhook-timestamp',
      'webhook-signature',
      'X-Hub-Signature-256',
      'X-GitHub-Delivery',
      'Stripe-Signature',
      'X-Slack-Signature',
      'X-Slack-Request-Timestamp',
    ]) {
      const parameter = parameters.find((p) => p.name === name);
      assert.ok(parameter, name);
      assert.equal(parameter.in, 'header', name);
      assert.notEqual(parameter.required, true, name);
      assert.ok((parameter.description ?? '').length > 0, name);
    }
  });

  it('says data_base64 may not be empty', () => {
    const record = JSON.stringify(OPENAPI_DOCUMENT.components.schemas.RecordIn);
    assert.match(record, /"data_base64":\{[^}]*"minLength":1/);
  });

  it('matches the README’s examples of a 207 answer and a validation problem', () => {
    assert.ok(
      schemaChecker('RecordsAnswer')({
        stream: 'clicks',
        failed_record_count: 1,
        records: [
          {
            id: 'evt-1',
            status: 'ok',
            partition_id: 'shardId-0000000000',
            sequence_number: '42',
          },
          {
            id: 'evt-2',
            status: 'failed',
            error_code: 'DIS.4303',
            error_message: 'Exceeded traffic control limit.',
            retryable: true,
            retry_after_ms: 250,
          },
        ],
      }),
    );
    const problem = schemaChecker('Problem');
    assert.ok(
      problem({
        type: 'urn:dis-gateway:problem:validation',
        title: 'Invalid records',
        status: 400,
        code: 'ERR_VALIDATION',
        detail: '2 problems in the records',
        errors: [{ pointer: '/records/1/data_base64', detail: 'not valid Base64' }],
      }),
    );
    assert.equal(
      problem({ type: 'urn:x', title: 'x', status: 400, code: 'ERR_NOT_IN_THE_CATALOG' }),
      false,
      'a problem code comes from the catalog',
    );
  });
});

describe('the records request schema says what the parser does', () => {
  const schema = schemaChecker('RecordsRequest');
  const parserAccepts = (body: unknown): boolean => {
    try {
      parseJsonRecords(Buffer.from(JSON.stringify(body)), PARSE_OPTIONS);
      return true;
    } catch (error) {
      if (error instanceof AppError) return false;
      throw error;
    }
  };
  const records: [string, unknown][] = [
    ['data only', { data: { a: 1 } }],
    ['data_base64 only', { data_base64: 'AAEC/w==' }],
    ['every key', { data: 1, id: 'e', partition_key: 'k', partition_id: '1' }],
    ['a shard id', { data: 1, partition_id: 'shardId-0000000001' }],
    ['the largest hash key', { data: 1, explicit_hash_key: '9223372036854775807' }],
    ['hash key 0', { data: 1, explicit_hash_key: '0' }],
    ['an id of 256 characters', { data: 1, id: 'x'.repeat(256) }],
    ['neither data nor data_base64', { id: 'e' }],
    ['both data and data_base64', { data: 1, data_base64: 'AA==' }],
    ['an unknown member', { data: 1, extra: true }],
    ['an empty id', { data: 1, id: '' }],
    ['an id of 257 characters', { data: 1, id: 'x'.repeat(257) }],
    ['an empty partition key', { data: 1, partition_key: '' }],
    ['a partition index with a leading zero', { data: 1, partition_id: '01' }],
    ['an 11-digit partition index', { data: 1, partition_id: '12345678901' }],
    ['a short shard id', { data: 1, partition_id: 'shardId-001' }],
    ['a hash key with a sign', { data: 1, explicit_hash_key: '-1' }],
    ['a hash key with a leading zero', { data: 1, explicit_hash_key: '01' }],
    ['a numeric id', { data: 1, id: 7 }],
    ['an empty data_base64', { data_base64: '' }],
  ];
  for (const [name, record] of records) {
    it(`agrees on a record with ${name}`, () => {
      const body = { records: [record] };
      assert.equal(schema(body), parserAccepts(body));
    });
  }

  it('agrees that the records array may not be empty or missing', () => {
    for (const body of [{ records: [] }, {}, { records: [{ data: 1 }], more: 1 }]) {
      assert.equal(schema(body), false, JSON.stringify(body));
      assert.equal(parserAccepts(body), false, JSON.stringify(body));
    }
  });
});

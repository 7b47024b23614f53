import { Ajv2020 } from 'ajv/dist/2020.js';
import type { Response } from 'supertest';
import { OPENAPI_DOCUMENT } from '../../src/http/openapi.ts';

/**
 * Checks a real answer of the records endpoint against the OpenAPI document: the status must be
 * documented, and the body must match the schema of its content type. Returns problems (empty = ok).
 */
export function createOpenApiChecker(): (res: Response) => string[] {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema({ $id: 'doc', components: OPENAPI_DOCUMENT.components });
  const responses: Record<string, { content?: Record<string, { schema: { $ref: string } }> }> =
    OPENAPI_DOCUMENT.paths['/v1/streams/{stream}/records'].post.responses;
  return (res) => {
    const documented = responses[String(res.status)];
    if (documented === undefined) return [`status ${res.status} is not documented`];
    const type = (res.headers['content-type'] ?? '').split(';')[0] ?? '';
    const media = documented.content?.[type];
    if (media === undefined) return [`status ${res.status} with ${type} is not documented`];
    const validate = ajv.getSchema(`doc${media.schema.$ref}`);
    if (validate === undefined) return [`no schema ${media.schema.$ref}`];
    const body: unknown = JSON.parse(res.text);
    return validate(body)
      ? []
      : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
  };
}

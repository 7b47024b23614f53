import { z } from 'zod';
import { ERROR_CATALOG, type ErrorCode } from './catalog.ts';

// The RFC 9457 body every whole-request error answers with. toProblem() builds it through this
// type, and the OpenAPI document's `Problem` schema is generated from it, so the codes a caller can
// meet are listed there from the catalog itself.

function isErrorCode(key: string): key is ErrorCode {
  return Object.hasOwn(ERROR_CATALOG, key);
}

export const problemBodySchema = z.looseObject({
  type: z.string().meta({ format: 'uri-reference' }),
  title: z.string(),
  status: z.int().min(400).max(599),
  code: z.enum(Object.keys(ERROR_CATALOG).filter(isErrorCode)),
  detail: z.string().exactOptional(),
  instance: z.string().exactOptional(),
  /** Validation problems, each with the RFC 6901 pointer to what it is about. */
  errors: z.array(z.strictObject({ pointer: z.string(), detail: z.string() })).exactOptional(),
});

/** Open to further members (extensions), like RFC 9457 itself. */
export type ProblemBody = z.output<typeof problemBodySchema>;

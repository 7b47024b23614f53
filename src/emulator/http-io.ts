import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { disError } from './errors.ts';

export type Reply =
  | {
      readonly kind: 'json';
      readonly status: number;
      readonly body?: unknown;
      readonly headers?: Readonly<Record<string, string>>;
    }
  /** Destroy the socket without answering (connection-reset faults). */
  | { readonly kind: 'reset' };

export function json(
  status: number,
  body?: unknown,
  headers?: Readonly<Record<string, string>>,
): Reply {
  return {
    kind: 'json',
    status,
    ...(body === undefined ? {} : { body }),
    ...(headers === undefined ? {} : { headers }),
  };
}

export type BodyRead = { ok: true; body: Buffer } | { ok: false; size: number };

/**
 * Reads the whole body but keeps at most `limit` bytes: an oversized body is drained rather than left
 * unread, so the client sees the 413 instead of a broken pipe.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<BodyRead> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    if (!(chunk instanceof Buffer)) continue;
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  return size > limit ? { ok: false, size } : { ok: true, body: Buffer.concat(chunks) };
}

export function sendReply(res: ServerResponse, reply: Reply, requestId: string): void {
  if (reply.kind === 'reset') {
    res.socket?.destroy();
    return;
  }
  const headers: Record<string, string> = { 'x-request-id': requestId, ...reply.headers };
  if (reply.body === undefined) {
    res.writeHead(reply.status, headers).end();
    return;
  }
  const isText = typeof reply.body === 'string';
  const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  headers['content-type'] ??= isText
    ? 'text/plain;charset=UTF-8'
    : 'application/json;charset=UTF-8';
  res.writeHead(reply.status, headers).end(text);
}

const JSON_TYPE = /^application\/json\s*(;.*)?$/i;

export interface JsonInput {
  readonly contentType: string | undefined;
  readonly body: Buffer;
}

/**
 * The emulator speaks JSON only: protobuf and compressed bodies (java-dis options) get 415 with a DIS
 * body, so a client that relies on them finds out here rather than in production.
 */
export function parseJsonBody<T>(input: JsonInput, schema: z.ZodType<T>): T {
  if (input.contentType === undefined || !JSON_TYPE.test(input.contentType)) {
    throw disError(
      'DIS.4300',
      `[Unsupported Content-Type ${input.contentType ?? '(none)'}; send application/json]`,
      415,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(input.body.toString('utf8'));
  } catch {
    throw disError('DIS.4300', '[body is not valid JSON]');
  }
  const result = schema.safeParse(parsed);
  if (!result.success) throw disError('DIS.4200', describeIssues(result.error));
  return result.data;
}

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `[${issue.path.map(String).join('.') || 'body'}: ${issue.message}]`)
    .join('');
}

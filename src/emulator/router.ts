export const OPERATION_NAMES = [
  'CreateStream',
  'ListStreams',
  'DescribeStream',
  'DeleteStream',
  'PutRecords',
  'GetCursor',
  'GetRecords',
  'CreateToken',
] as const;

export type OperationName = (typeof OPERATION_NAMES)[number];

export interface Route {
  readonly operation: OperationName;
  /** `{project_id}` from a /v2 path; absent for IAM. */
  readonly projectId?: string;
  readonly streamName?: string;
}

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * Maps method + raw path to an operation. A trailing `/` is ignored because java-dis and python-dis
 * send `/v2/{project_id}/records/`. Undefined means the API gateway would answer 404.
 */
export function matchRoute(method: string, path: string): Route | undefined {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  const parts = trimmed.split('/').slice(1);
  if (method === 'POST' && trimmed === '/v3/auth/tokens') return { operation: 'CreateToken' };
  const [version, rawProject, collection, rawName, ...rest] = parts;
  if (version !== 'v2' || rawProject === undefined || rest.length > 0) return undefined;
  const projectId = decode(rawProject);
  if (projectId === undefined || projectId === '') return undefined;
  const at = (operation: OperationName): Route => ({ operation, projectId });
  if (rawName === undefined) {
    if (collection === 'streams') {
      if (method === 'POST') return at('CreateStream');
      if (method === 'GET') return at('ListStreams');
    }
    if (collection === 'records') {
      if (method === 'POST') return at('PutRecords');
      if (method === 'GET') return at('GetRecords');
    }
    if (collection === 'cursors' && method === 'GET') return at('GetCursor');
    return undefined;
  }
  const streamName = decode(rawName);
  if (collection !== 'streams' || streamName === undefined || streamName === '') return undefined;
  if (method === 'GET') return { ...at('DescribeStream'), streamName };
  if (method === 'DELETE') return { ...at('DeleteStream'), streamName };
  return undefined;
}

import type { EmulatorContext } from './context.ts';
import { FaultPatch } from './faults.ts';
import { describeIssues, json } from './http-io.ts';
import type { Reply } from './http-io.ts';

/** DIS never uses this prefix, so the admin API cannot shadow a real route. */
export const ADMIN_PREFIX = '/_emulator';

/**
 * Unauthenticated test controls: `GET|POST|DELETE /_emulator/faults` (show, set, clear) and
 * `GET /_emulator/stats`. Only mounted when the `admin` option is on.
 */
export function handleAdmin(
  ctx: EmulatorContext,
  method: string,
  path: string,
  body: Buffer,
): Reply {
  const route = path.replace(/\/+$/, '');
  if (route === `${ADMIN_PREFIX}/stats` && method === 'GET') {
    return json(200, { ...ctx.store.stats, streams: ctx.store.state.streamNames() });
  }
  if (route !== `${ADMIN_PREFIX}/faults`) return json(404, { error: 'unknown admin path' });
  if (method === 'GET') return json(200, ctx.faults.snapshot());
  if (method === 'DELETE') {
    ctx.faults.clear();
    return json(200, ctx.faults.snapshot());
  }
  if (method !== 'POST') return json(405, { error: 'use GET, POST or DELETE' });
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return json(400, { error: 'body is not valid JSON' });
  }
  const patch = FaultPatch.safeParse(parsed);
  if (!patch.success) return json(400, { error: describeIssues(patch.error) });
  ctx.faults.apply(patch.data);
  return json(200, ctx.faults.snapshot());
}

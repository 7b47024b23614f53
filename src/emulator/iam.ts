import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { EmulatorContext, OperationInput } from './context.ts';
import { EmulatorError } from './errors.ts';
import { json } from './http-io.ts';
import type { Reply } from './http-io.ts';

// IAM `POST /v3/auth/tokens`, password method with a project scope (dis-api.md §6.1). IAM answers
// with its own `error_code`/`error_msg` body; the codes below are the emulator's choice.

const TokenRequest = z.object({
  auth: z.object({
    identity: z.object({
      methods: z.array(z.string()),
      password: z.object({
        user: z.object({
          name: z.string(),
          password: z.string(),
          domain: z.object({ name: z.string() }),
        }),
      }),
    }),
    scope: z.object({
      project: z.union([z.object({ id: z.string() }), z.object({ name: z.string() })]),
    }),
  }),
});

function iamError(status: number, code: string, message: string): EmulatorError {
  return new EmulatorError(status, 'apigw', code, message);
}

/** IAM writes microseconds: `2019-02-13T06:52:13.855000Z`. */
function iamTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function idOf(kind: string, name: string): string {
  return createHash('sha256').update(`${kind}:${name}`).digest('hex').slice(0, 32);
}

export function handleCreateToken(ctx: EmulatorContext, input: OperationInput): Reply {
  let parsed: unknown;
  try {
    parsed = JSON.parse(input.body.toString('utf8'));
  } catch {
    throw iamError(400, 'IAM.0011', 'Request body is invalid.');
  }
  const result = TokenRequest.safeParse(parsed);
  if (!result.success || !result.data.auth.identity.methods.includes('password')) {
    throw iamError(400, 'IAM.0011', 'Request body is invalid.');
  }
  const { user } = result.data.auth.identity.password;
  const known = ctx.iamUsers.find(
    (u) => u.domain === user.domain.name && u.name === user.name && u.password === user.password,
  );
  if (known === undefined) throw iamError(401, 'IAM.0004', 'The username or password is wrong.');
  const project = result.data.auth.scope.project;
  const matches = 'id' in project ? project.id === ctx.projectId : project.name === ctx.region;
  if (!matches) throw iamError(400, 'IAM.0010', 'The project does not exist.');

  const issued = ctx.tokens.issue(known.name, known.domain, ctx.clock());
  const domain = { id: idOf('domain', known.domain), name: known.domain };
  return json(
    201,
    {
      token: {
        expires_at: iamTime(issued.expiresAt),
        issued_at: iamTime(issued.issuedAt),
        methods: ['password'],
        ...(input.query.has('nocatalog') ? {} : { catalog: [] }),
        project: { id: ctx.projectId, name: ctx.region, domain },
        user: { id: idOf('user', `${known.domain}/${known.name}`), name: known.name, domain },
        roles: [{ id: idOf('role', 'op_fine_grained'), name: 'op_fine_grained' }],
      },
    },
    { 'x-subject-token': issued.token },
  );
}

import { checkOneOf, missingSetting, optional, type BuildContext } from './build-context.ts';
import type { FileConfig } from './file-schema.ts';
import type { SecretResult, SecretSpec } from './secrets.ts';
import type { DisConfig, DisCredentials } from './types.ts';

type DisFile = FileConfig['dis'];
type AuthFile = DisFile['auth'];

/** `https://dis.cn-north-4.myhuaweicloud.com` → `cn-north-4`. */
export function regionFromEndpoint(endpoint: string): string | undefined {
  return /^dis\.([a-z0-9]+(?:-[a-z0-9]+)*)\.myhuaweicloud\.com$/.exec(
    new URL(endpoint).hostname,
  )?.[1];
}

type SecretName = 'ak' | 'sk' | 'security_token' | 'password';

function secretSpec(envVar: string, name: SecretName, auth: AuthFile): SecretSpec {
  const envKey = `${name}_env` as const;
  const fileKey = `${name}_file` as const;
  return {
    envVar,
    envRef: { key: `dis.auth.${envKey}`, name: auth[envKey] },
    fileRef: { key: `dis.auth.${fileKey}`, path: auth[fileKey] },
  };
}

function required(
  context: BuildContext,
  result: SecretResult,
  what: string,
  envVar: string,
  name: SecretName,
): string | undefined {
  if (result.kind === 'value') return result.value;
  if (result.kind === 'absent') {
    context.problems.push(
      missingSetting(
        what,
        [envVar, `${envVar}_FILE`],
        [`dis.auth.${name}_env`, `dis.auth.${name}_file`],
      ),
    );
  }
  return undefined;
}

function buildCredentials(auth: AuthFile, context: BuildContext): DisCredentials | undefined {
  const { problems, secrets } = context;
  for (const name of ['ak', 'sk', 'security_token', 'password'] as const) {
    checkOneOf(context, 'dis.auth', {
      [`${name}_env`]: auth[`${name}_env`],
      [`${name}_file`]: auth[`${name}_file`],
    });
  }
  if (auth.type === 'aksk') {
    const ak = required(
      context,
      secrets.resolve(secretSpec('DIS_AK', 'ak', auth)),
      'DIS access key (AK)',
      'DIS_AK',
      'ak',
    );
    const sk = required(
      context,
      secrets.resolve(secretSpec('DIS_SK', 'sk', auth)),
      'DIS secret key (SK)',
      'DIS_SK',
      'sk',
    );
    const token = secrets.resolve(secretSpec('DIS_SECURITY_TOKEN', 'security_token', auth));
    if (ak === undefined || sk === undefined || token.kind === 'failed') return undefined;
    return {
      type: 'aksk',
      ak,
      sk,
      ...optional('securityToken', token.kind === 'value' ? token.value : undefined),
    };
  }
  const iamEndpoint = auth.iam_endpoint;
  if (iamEndpoint === undefined)
    problems.push(
      missingSetting('IAM endpoint (DIS_AUTH=token)', ['IAM_ENDPOINT'], ['dis.auth.iam_endpoint']),
    );
  if (auth.user === undefined)
    problems.push(missingSetting('IAM user (DIS_AUTH=token)', ['IAM_USER'], ['dis.auth.user']));
  if (auth.domain === undefined)
    problems.push(
      missingSetting('IAM domain (DIS_AUTH=token)', ['IAM_DOMAIN'], ['dis.auth.domain']),
    );
  const password = required(
    context,
    secrets.resolve(secretSpec('IAM_PASSWORD', 'password', auth)),
    'IAM password (DIS_AUTH=token)',
    'IAM_PASSWORD',
    'password',
  );
  if (
    iamEndpoint === undefined ||
    auth.user === undefined ||
    auth.domain === undefined ||
    password === undefined
  )
    return undefined;
  return { type: 'token', iamEndpoint, user: auth.user, password, domain: auth.domain };
}

/**
 * Plain http stays on the host (a local TLS-terminating sidecar, the benchmark's emulator): nothing
 * signed crosses a network unencrypted.
 */
function isLoopback(endpoint: string): boolean {
  try {
    const host = new URL(endpoint).hostname;
    return (
      host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
    );
  } catch {
    return false;
  }
}

/**
 * Remote DIS when an endpoint is set; without one, the embedded emulator outside production and
 * a list of every missing setting in production.
 */
export function buildDis(dis: DisFile, context: BuildContext): DisConfig | undefined {
  const { problems, production } = context;
  if (dis.endpoint === undefined && !production) return { mode: 'embedded' };
  if (dis.endpoint === undefined) {
    problems.push(missingSetting('DIS endpoint', ['DIS_ENDPOINT'], ['dis.endpoint']));
  } else if (production && !dis.endpoint.startsWith('https:') && !isLoopback(dis.endpoint)) {
    problems.push(
      'DIS_ENDPOINT / dis.endpoint: must be an https URL in production (http only to a loopback address)',
    );
  }
  const region =
    dis.region ?? (dis.endpoint === undefined ? undefined : regionFromEndpoint(dis.endpoint));
  if (region === undefined && dis.endpoint !== undefined) {
    problems.push(
      `${missingSetting('DIS region', ['DIS_REGION'], ['dis.region'])} (the endpoint host is not dis.<region>.myhuaweicloud.com)`,
    );
  }
  if (dis.project_id === undefined)
    problems.push(missingSetting('DIS project id', ['DIS_PROJECT_ID'], ['dis.project_id']));
  const auth = buildCredentials(dis.auth, context);
  if (
    dis.endpoint === undefined ||
    region === undefined ||
    dis.project_id === undefined ||
    auth === undefined
  )
    return undefined;
  return {
    mode: 'remote',
    endpoint: dis.endpoint.replace(/\/+$/, ''),
    region,
    projectId: dis.project_id,
    auth,
    maxRecordsPerRequest: dis.max_records_per_request,
    maxBytesPerRequest: dis.max_bytes_per_request,
    maxConcurrentRequests: dis.max_concurrent_requests,
    requestTimeoutMs: dis.request_timeout_ms,
    connectTimeoutMs: dis.connect_timeout_ms,
    breaker: {
      failureThreshold: dis.breaker.failure_threshold,
      coolDownMs: dis.breaker.cool_down_ms,
    },
  };
}

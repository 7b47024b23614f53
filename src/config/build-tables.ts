import { missingSetting, optional, type BuildContext } from './build-context.ts';
import type { FileConfig } from './file-schema.ts';
import { resolveSecretList } from './secrets.ts';
import type {
  HmacProfileConfig,
  LimitsConfig,
  PrincipalLimits,
  StreamConfig,
  StreamLimits,
  WebhookSourceConfig,
} from './types.ts';

type StreamsFile = FileConfig['streams'];
type WebhooksFile = FileConfig['webhooks'];

/** Without streams in embedded dev mode, one default stream so the quick start has a target. */
export const DEV_STREAM = 'events';

export function buildStreams(
  streams: StreamsFile,
  embedded: boolean,
  context: BuildContext,
): Record<string, StreamConfig> {
  const entries = Object.entries(streams);
  if (entries.length === 0) {
    if (context.production) {
      context.problems.push(missingSetting('streams', ['GATEWAY_STREAMS'], ['streams']));
    } else if (embedded) {
      context.warnings.push(
        `no streams configured (GATEWAY_STREAMS or streams): the embedded emulator gets one stream "${DEV_STREAM}"`,
      );
      return { [DEV_STREAM]: { disStream: DEV_STREAM, partitions: 1, type: 'COMMON' } };
    } else {
      context.warnings.push(
        'no streams configured (GATEWAY_STREAMS or streams): every stream answers 404',
      );
    }
  }
  const result: Record<string, StreamConfig> = {};
  for (const [name, entry] of entries) {
    const limits: StreamLimits | undefined =
      entry.limits === undefined
        ? undefined
        : {
            ...optional('recordsPerS', entry.limits.records_per_s),
            ...optional('bytesPerS', entry.limits.bytes_per_s),
            ...optional('burstRecords', entry.limits.burst_records),
            ...optional('burstBytes', entry.limits.burst_bytes),
          };
    result[name] = {
      disStream: entry.dis_stream,
      ...optional('streamId', entry.stream_id),
      partitions: entry.partitions,
      type: entry.type,
      ...optional('partitionKeyPointer', entry.partition_key_pointer),
      ...optional('limits', limits),
    };
  }
  return result;
}

export function buildLimits(limits: FileConfig['limits']): LimitsConfig {
  const principals: Record<string, Partial<PrincipalLimits>> = {};
  for (const [name, entry] of Object.entries(limits.principals)) {
    principals[name] = {
      ...optional('requestsPerS', entry.requests_per_s),
      ...optional('burst', entry.burst),
      ...optional('recordsPerS', entry.records_per_s),
      ...optional('bytesPerS', entry.bytes_per_s),
    };
  }
  return {
    default: {
      requestsPerS: limits.default.requests_per_s,
      burst: limits.default.burst,
      recordsPerS: limits.default.records_per_s,
      bytesPerS: limits.default.bytes_per_s,
    },
    principals,
    maxRecordsPerRequest: limits.max_records_per_request,
    maxRecordBytes: limits.max_record_bytes,
    maxJsonDepth: limits.max_json_depth,
  };
}

type SourceFile = WebhooksFile['sources'][string];

function buildHmac(
  source: SourceFile,
  at: string,
  context: BuildContext,
): HmacProfileConfig | undefined {
  const { hmac } = source;
  if (source.profile !== 'hmac') {
    if (hmac !== undefined) context.problems.push(`${at}.hmac: only for profile hmac`);
    return undefined;
  }
  if (hmac === undefined) {
    context.problems.push(`${at}.hmac: required for profile hmac (header, algorithm, encoding)`);
    return undefined;
  }
  const template = hmac.signed_content;
  if (template !== undefined) {
    const unknown = [...template.matchAll(/\{([^}]*)\}/g)]
      .map((match) => match[1])
      .filter((name) => name !== 'timestamp' && name !== 'body');
    if (unknown.length > 0)
      context.problems.push(`${at}.hmac.signed_content: only {timestamp} and {body} may be used`);
    if (!template.includes('{body}'))
      context.problems.push(`${at}.hmac.signed_content: must contain {body}`);
    if (template.includes('{timestamp}') && hmac.timestamp_header === undefined)
      context.problems.push(
        `${at}.hmac.signed_content: uses {timestamp}, so hmac.timestamp_header is required`,
      );
  }
  return {
    header: hmac.header,
    algorithm: hmac.algorithm,
    encoding: hmac.encoding,
    ...optional('prefix', hmac.prefix),
    ...optional('timestampHeader', hmac.timestamp_header),
    ...optional('signedContent', template),
    ...optional('deliveryIdHeader', hmac.delivery_id_header),
  };
}

/** `whsec_` + Base64 (the prefix is optional in the spec's own libraries). */
function isStandardWebhooksSecret(secret: string): boolean {
  const body = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  return body.length > 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(body) && body.length % 4 === 0;
}

export function buildWebhooks(
  webhooks: WebhooksFile,
  streamNames: ReadonlySet<string> | undefined,
  context: BuildContext,
): Record<string, WebhookSourceConfig> {
  const sources: Record<string, WebhookSourceConfig> = {};
  for (const [name, source] of Object.entries(webhooks.sources)) {
    const at = `webhooks.sources.${name}`;
    if (streamNames !== undefined && !streamNames.has(source.stream))
      context.problems.push(`${at}.stream: "${source.stream}" is not a key of streams`);
    const { values: secrets, failed } = resolveSecretList(context.secrets, at, source);
    if (secrets.length === 0 && !failed)
      context.problems.push(
        `${at}: needs at least one secret (secret_env, secrets_env, secret_file or secret_files)`,
      );
    if (source.profile === 'standard-webhooks') {
      const bad = secrets.filter((secret) => !isStandardWebhooksSecret(secret)).length;
      if (bad > 0) context.problems.push(`${at}: ${bad} secret(s) are not whsec_ + Base64`);
    }
    const hmac = buildHmac(source, at, context);
    sources[name] = {
      profile: source.profile,
      secrets,
      stream: source.stream,
      mode: source.mode,
      toleranceS: source.tolerance_s,
      maxBodyBytes: source.max_body_bytes,
      ...optional('deliveryIdPointer', source.delivery_id_pointer),
      ...optional('partitionKeyPointer', source.partition_key_pointer),
      replayOnRedisDown: source.replay_on_redis_down,
      ...optional('hmac', hmac),
    };
  }
  return sources;
}

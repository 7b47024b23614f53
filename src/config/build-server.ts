import type { BuildContext } from './build-context.ts';
import type { FileConfig } from './file-schema.ts';
import type { ServerConfig } from './types.ts';

// Listen and timing settings, with the checks that relate them to each other.

export function buildServer(server: FileConfig['server'], context: BuildContext): ServerConfig {
  const { problems } = context;
  if (server.headers_timeout_ms <= server.keep_alive_timeout_ms)
    problems.push(
      'server.headers_timeout_ms: must be above server.keep_alive_timeout_ms, or Node may close a reused connection while a request is arriving',
    );
  if (server.default_wait_ms > server.max_wait_ms)
    problems.push('server.default_wait_ms: must not exceed server.max_wait_ms');
  if (server.max_wait_ms >= server.request_timeout_ms)
    problems.push('server.max_wait_ms: must be below server.request_timeout_ms');
  if (server.shutdown_delay_ms >= server.shutdown_timeout_ms)
    problems.push(
      'SHUTDOWN_DELAY_MS / server.shutdown_delay_ms: must be below SHUTDOWN_TIMEOUT_MS / server.shutdown_timeout_ms',
    );
  return {
    host: server.host,
    port: server.port,
    trustProxy: server.trust_proxy,
    bodyLimitBytes: server.body_limit_bytes,
    keepAliveTimeoutMs: server.keep_alive_timeout_ms,
    headersTimeoutMs: server.headers_timeout_ms,
    requestTimeoutMs: server.request_timeout_ms,
    shutdownDelayMs: server.shutdown_delay_ms,
    shutdownTimeoutMs: server.shutdown_timeout_ms,
    defaultWaitMs: server.default_wait_ms,
    maxWaitMs: server.max_wait_ms,
  };
}

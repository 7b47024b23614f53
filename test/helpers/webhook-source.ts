import type { WebhookSourceConfig } from '../../src/config/types.ts';

/**
 * A webhook source as loadConfig hands it over: async into `events`, 300 s of tolerance, bodies up
 * to 1 MiB, deliveries refused while Redis is down; `extra` sets what a test is about.
 */
export function webhookSource(
  profile: WebhookSourceConfig['profile'],
  secrets: readonly string[],
  extra: Partial<WebhookSourceConfig> = {},
): WebhookSourceConfig {
  return {
    profile,
    secrets,
    stream: 'events',
    mode: 'async',
    toleranceS: 300,
    maxBodyBytes: 1 << 20,
    replayOnRedisDown: 'reject',
    ...extra,
  };
}

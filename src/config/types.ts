import type { z } from 'zod';
import type { configSchema } from './schema.ts';

// The effective configuration is what the schema outputs: camelCase, defaults filled in, secrets
// resolved. Built only by loadConfig; these are names for the slices components take, so that
// nothing downstream looks at the environment or declares a setting a second time.

/** Read-only all the way down: a component never changes what it was configured with. */
type DeepReadonly<T> = T extends readonly (infer Item)[]
  ? readonly DeepReadonly<Item>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

export type Config = DeepReadonly<z.output<ReturnType<typeof configSchema>>>;

export type DisConfig = Config['dis'];
/** A stream's own DIS target (`streams.<name>.dis`), resolved like a remote `dis`. */
export type DisTargetConfig = Config['disTargets'][string];
export type RedisConfig = Config['redis'];
export type JwtConfig = Config['auth']['jwt'];
export type JwtAlgorithm = JwtConfig['algorithms'][number];
export type StreamConfig = Config['streams'][string];
export type WebhookSourceConfig = Config['webhooks']['sources'][string];
export type WebhookProfile = WebhookSourceConfig['profile'];
export type HmacProfileConfig = NonNullable<WebhookSourceConfig['hmac']>;
export type FrontdoorConfig = Config['frontdoor'];
export type FrontdoorClientConfig = FrontdoorConfig['clients'][string];

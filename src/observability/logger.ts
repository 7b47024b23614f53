import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

// Paths pino blanks out wherever they appear in a log object: credentials, signatures and cookies
// never reach a log line, whatever a caller or a library puts there.
export const REDACT_PATHS = [
  'authorization',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'headers["x-hub-signature-256"]',
  'headers["x-slack-signature"]',
  'headers["stripe-signature"]',
  'headers["webhook-signature"]',
  'headers["x-auth-token"]',
  'headers["x-security-token"]',
  'token',
  'secret',
  'password',
  'sk',
];

/**
 * stdout in production: asynchronous, lines gathered into writes of at least 4 KiB and flushed at
 * least every 250 ms (and synchronously on exit). One write per request line cost a thread-pool
 * round trip each in the profile at 2,000 req/s; a log line may now reach stdout up to 250 ms late.
 */
export const STDOUT_DESTINATION = { sync: false, minLength: 4096, periodicFlush: 250 } as const;

export interface LoggerOptions {
  readonly level: string;
  /** Where lines go; by default stdout through STDOUT_DESTINATION. */
  readonly destination?: pino.DestinationStream | undefined;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'dis-gateway' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label: string) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ ...STDOUT_DESTINATION }),
  );
}

/**
 * Dev mode's human-readable output: pino-pretty as a synchronous stream, so lines keep their order
 * with the banner. Undefined where it is not installed (a production image has no dev dependencies).
 */
export async function devPrettyStream(
  colorize: boolean,
): Promise<pino.DestinationStream | undefined> {
  try {
    const { default: pretty } = await import('pino-pretty');
    return pretty({
      sync: true,
      colorize,
      translateTime: 'SYS:HH:MM:ss',
      ignore: 'pid,hostname,service',
    });
  } catch {
    return undefined;
  }
}

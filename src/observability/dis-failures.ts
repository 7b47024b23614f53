import type { Logger } from './logger.ts';

// One log line per kind of DIS failure, so an outage is visible in the logs and not only in
// metrics: what DIS said (status, its code, its request id for Huawei support), never a credential
// or a signature. While a failure repeats, one line per kind per interval says how many there were.

export interface DisExchangeFailure {
  readonly operation: string;
  readonly status: number | 'error';
  /** The gateway's code (ERR_DIS_TIMEOUT, ERR_DIS_HTTP, …). */
  readonly errorCode?: string | undefined;
  readonly disCode?: string | undefined;
  readonly disRequestId?: string | undefined;
  readonly authFailure?: boolean | undefined;
}

export type DisFailureKind = 'credentials' | 'refused' | 'throttled' | 'failing' | 'unreachable';

const MESSAGES: Readonly<Record<DisFailureKind, string>> = {
  credentials: 'DIS refused the gateway’s credentials',
  refused: 'DIS refused a request of the gateway (configuration: stream, project, request)',
  throttled: 'DIS throttled a request',
  failing: 'DIS failed a request',
  unreachable: 'DIS did not answer (connection failed or timed out)',
};

export function disFailureKind(failure: DisExchangeFailure): DisFailureKind {
  if (failure.authFailure === true) return 'credentials';
  if (failure.status === 'error') return 'unreachable';
  if (failure.status === 429) return 'throttled';
  if (failure.status >= 500) return 'failing';
  return 'refused';
}

export interface DisFailureLog {
  failure(failure: DisExchangeFailure): void;
  breaker(state: 'closed' | 'open' | 'half-open'): void;
}

export function createDisFailureLog(
  logger: Logger,
  now: () => number,
  /** At most one line per kind in this interval (default 10 s); the rest are counted. */
  intervalMs = 10_000,
): DisFailureLog {
  const last = new Map<string, { at: number; suppressed: number }>();
  return {
    failure(failure) {
      const kind = disFailureKind(failure);
      const key = kind;
      const at = now();
      const seen = last.get(key);
      if (seen !== undefined && at - seen.at < intervalMs) {
        seen.suppressed += 1;
        return;
      }
      last.set(key, { at, suppressed: 0 });
      const line = {
        dis_failure: kind,
        operation: failure.operation,
        dis_status: failure.status,
        error_code: failure.errorCode,
        dis_code: failure.disCode,
        dis_request_id: failure.disRequestId,
        ...(seen === undefined || seen.suppressed === 0
          ? {}
          : { repeated: seen.suppressed, repeated_in_ms: at - seen.at }),
      };
      // What only an operator can fix is an error; what DIS recovers from by itself is a warning.
      if (kind === 'credentials' || kind === 'refused') logger.error(line, MESSAGES[kind]);
      else logger.warn(line, MESSAGES[kind]);
    },
    breaker(state) {
      const line = { breaker: state };
      if (state === 'open') {
        logger.error(
          line,
          'DIS circuit breaker opened: DIS refused the credentials repeatedly; calls stop until the cool-down ends',
        );
      } else if (state === 'half-open') logger.warn(line, 'DIS circuit breaker half-open: probing');
      else logger.info(line, 'DIS circuit breaker closed: DIS accepts the credentials again');
    },
  };
}

import { DisCircuitOpenError } from './errors.ts';

// Stops calling DIS after repeated authentication failures instead of walking into the AK lock-out.

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Consecutive authentication failures that open the breaker (DIS locks the AK at 5). */
  readonly failureThreshold: number;
  /** How long the breaker stays open before one probe request may go through. */
  readonly coolDownMs: number;
  readonly now: () => number;
  readonly onStateChange?: ((state: BreakerState) => void) | undefined;
}

export interface CircuitBreaker {
  readonly state: () => BreakerState;
  /** Throws {@link DisCircuitOpenError} while the breaker is open and not yet due for a probe. */
  readonly check: () => void;
  /** Throws {@link DisCircuitOpenError} when the call must not reach DIS. */
  readonly acquire: () => void;
  readonly recordSuccess: () => void;
  readonly recordAuthFailure: () => void;
  /** The call ended without telling anything about the credentials (e.g. a timeout). */
  readonly recordNeutral: () => void;
}

export function createCircuitBreaker(options: BreakerOptions): CircuitBreaker {
  let state: BreakerState = 'closed';
  let failures = 0;
  let openedAt = 0;
  let probeInFlight = false;

  const moveTo = (next: BreakerState): void => {
    if (next === state) return;
    state = next;
    options.onStateChange?.(next);
  };

  return {
    state: () => {
      if (state === 'open' && options.now() - openedAt >= options.coolDownMs) return 'half-open';
      return state;
    },
    check: () => {
      const elapsed = options.now() - openedAt;
      if (state === 'open' && elapsed < options.coolDownMs) {
        throw new DisCircuitOpenError(Math.max(1000, options.coolDownMs - elapsed));
      }
    },
    acquire: () => {
      if (state === 'closed') return;
      const elapsed = options.now() - openedAt;
      if (state === 'open' && elapsed >= options.coolDownMs) moveTo('half-open');
      if (state === 'half-open' && !probeInFlight) {
        probeInFlight = true;
        return;
      }
      throw new DisCircuitOpenError(Math.max(1000, options.coolDownMs - elapsed));
    },
    recordSuccess: () => {
      failures = 0;
      probeInFlight = false;
      moveTo('closed');
    },
    recordAuthFailure: () => {
      failures += 1;
      probeInFlight = false;
      if (state === 'half-open' || failures >= options.failureThreshold) {
        openedAt = options.now();
        moveTo('open');
      }
    },
    recordNeutral: () => {
      probeInFlight = false;
    },
  };
}

/**
 * A circuit breaker per endpoint: after `threshold` failures in a row (or one answer that says
 * the endpoint is gone), calls to it are refused for a cooldown that doubles with each trip (up
 * to `maxCooldownMs`), so a receiver that is down is not hammered by every queued delivery at
 * once. After the cooldown one call goes through as a probe; its success closes the circuit.
 * The state is per process: each process learns on its own, and the queue's retries keep the
 * refused deliveries.
 */
export interface BreakerOptions {
  threshold: number;
  cooldownMs: number;
  maxCooldownMs: number;
  now: () => number;
}

interface EndpointState {
  failures: number;
  trips: number;
  openUntil: number;
  probing: boolean;
}

export function createCircuitBreaker(options: BreakerOptions) {
  const endpoints = new Map<string, EndpointState>();
  const stateOf = (endpoint: string) => {
    let state = endpoints.get(endpoint);
    if (!state) {
      state = { failures: 0, trips: 0, openUntil: 0, probing: false };
      endpoints.set(endpoint, state);
    }
    return state;
  };

  function trip(state: EndpointState) {
    state.trips++;
    const cooldown = Math.min(options.maxCooldownMs, options.cooldownMs * 2 ** (state.trips - 1));
    state.openUntil = options.now() + cooldown;
    state.probing = false;
  }

  return {
    /** Whether a call may go to `endpoint` now; when it returns a number, the ms until it may. */
    admit(endpoint: string): true | number {
      const state = stateOf(endpoint);
      if (state.trips === 0 || state.failures < options.threshold) return true;
      const wait = state.openUntil - options.now();
      if (wait > 0) return wait;
      if (state.probing) return options.cooldownMs;
      state.probing = true;
      return true;
    },
    succeeded(endpoint: string) {
      endpoints.delete(endpoint);
    },
    /** A failed call; `gone` (HTTP 410) trips the circuit at once. */
    failed(endpoint: string, { gone = false } = {}) {
      const state = stateOf(endpoint);
      state.failures = gone ? Math.max(state.failures + 1, options.threshold) : state.failures + 1;
      if (state.failures >= options.threshold) trip(state);
    },
    /** "closed", or "open" until the given time (for the delivery log and the start banner). */
    state(endpoint: string): { state: "closed" } | { state: "open"; until: Date } {
      const state = endpoints.get(endpoint);
      return state && state.trips > 0 && state.failures >= options.threshold && state.openUntil > options.now()
        ? { state: "open", until: new Date(state.openUntil) }
        : { state: "closed" };
    },
  };
}

export type CircuitBreaker = ReturnType<typeof createCircuitBreaker>;

// A circuit breaker per target, as pure functions of its state: it opens after N consecutive
// failures or an error rate over a window, lets one probe through after a cool-down (half-open),
// and closes again when the probe succeeds.

export interface BreakerLimits {
  consecutiveFailures: number;
  errorRate: number;
  windowMs: number;
  minRequests: number;
  coolDownMs: number;
}

export type BreakerMode = 'closed' | 'open' | 'half-open';

export interface BreakerState {
  mode: BreakerMode;
  consecutiveFailures: number;
  /** Clock time the breaker last opened. */
  openedAtMs: number;
  /** Half-open: a probe is in flight, others are refused. */
  probing: boolean;
  /** Outcomes in the window: ten buckets of windowMs / 10, oldest first. */
  buckets: { startMs: number; requests: number; failures: number }[];
}

export const closedBreaker = (): BreakerState => ({ mode: 'closed', consecutiveFailures: 0, openedAtMs: 0, probing: false, buckets: [] });

/** Whether a request may go to the target now; a half-open admission is the probe. */
export function breakerAdmits(state: BreakerState, limits: BreakerLimits, nowMs: number): { admit: boolean; probe: boolean; state: BreakerState } {
  if (state.mode === 'closed') return { admit: true, probe: false, state };
  if (state.mode === 'open' && nowMs - state.openedAtMs < limits.coolDownMs) return { admit: false, probe: false, state };
  if (state.probing) return { admit: false, probe: false, state };
  return { admit: true, probe: true, state: { ...state, mode: 'half-open', probing: true } };
}

function windowed(state: BreakerState, limits: BreakerLimits, nowMs: number, failed: boolean): BreakerState['buckets'] {
  const width = Math.max(1, limits.windowMs / 10);
  const buckets = state.buckets.filter((b) => nowMs - b.startMs < limits.windowMs);
  const last = buckets.at(-1);
  if (last !== undefined && nowMs - last.startMs < width) {
    buckets[buckets.length - 1] = { ...last, requests: last.requests + 1, failures: last.failures + (failed ? 1 : 0) };
  } else {
    buckets.push({ startMs: nowMs, requests: 1, failures: failed ? 1 : 0 });
  }
  return buckets;
}

/** The state after a request's outcome. `probe`: the request was the half-open probe. */
export function breakerRecords(state: BreakerState, limits: BreakerLimits, nowMs: number, ok: boolean, probe: boolean): BreakerState {
  if (probe) return ok ? closedBreaker() : { ...state, mode: 'open', openedAtMs: nowMs, probing: false };
  if (state.mode !== 'closed') return state; // a request admitted before the breaker opened
  const buckets = windowed(state, limits, nowMs, !ok);
  const consecutiveFailures = ok ? 0 : state.consecutiveFailures + 1;
  const requests = buckets.reduce((n, b) => n + b.requests, 0);
  const failures = buckets.reduce((n, b) => n + b.failures, 0);
  const open = consecutiveFailures >= limits.consecutiveFailures || (requests >= limits.minRequests && failures / requests >= limits.errorRate);
  if (open) return { mode: 'open', consecutiveFailures, openedAtMs: nowMs, probing: false, buckets: [] };
  return { ...state, consecutiveFailures, buckets };
}

/** Why the breaker is open, in words, for fallback reasons. */
export function describeBreaker(state: BreakerState, limits: BreakerLimits, nowMs: number): string {
  if (state.mode === 'closed') return 'closed';
  const left = Math.max(0, limits.coolDownMs - (nowMs - state.openedAtMs));
  return state.mode === 'open' ? `open (a probe in ${Math.ceil(left)} ms)` : 'half-open (a probe is in flight)';
}

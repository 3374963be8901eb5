// Hybrid serving's decision: which source answers a request of a hybrid endpoint. Pure: the
// situation (the key, what the store holds for it, the clock's now) is passed in, so the rules
// are a table test.
//
//   a stored prediction younger than maxAgeMs → store
//   else the request carries inputs           → live (the endpoint's target)
//   else a default response is configured     → default
//   else                                      → an error: the key is missing, or nothing answers for it

export type HybridSource = 'store' | 'live' | 'default';

/** Why a source answered (a metric label): the store's prediction was fresh, or why it could not answer. */
export type HybridReason = 'fresh' | 'no_key' | 'not_stored' | 'stale' | 'store_unavailable' | 'live_failed';

export interface HybridSituation {
  /** The request's key; undefined when it carries none. */
  key: string | undefined;
  /** When the key's stored prediction was written (epoch ms); undefined when none is stored. */
  storedAtMs: number | undefined;
  /** The store could not be read (it counts as holding nothing). */
  storeFailed: boolean;
  nowMs: number;
  maxAgeMs: number;
  hasInputs: boolean;
  hasDefault: boolean;
}

export type HybridDecision =
  | { source: HybridSource; reason: HybridReason; ageMs?: number }
  | { source: 'none'; reason: Exclude<HybridReason, 'fresh' | 'live_failed'>; error: 'PREDICTION_KEY_MISSING' | 'PREDICTION_NOT_FOUND' | 'PREDICTION_STORE_UNAVAILABLE'; ageMs?: number };

export function decideHybrid(s: HybridSituation): HybridDecision {
  const ageMs = s.storedAtMs === undefined ? undefined : Math.max(0, s.nowMs - s.storedAtMs);
  const age = ageMs === undefined ? {} : { ageMs };
  if (s.key !== undefined && ageMs !== undefined && ageMs < s.maxAgeMs) return { source: 'store', reason: 'fresh', ageMs };
  const reason = s.key === undefined ? 'no_key' : s.storeFailed ? 'store_unavailable' : ageMs === undefined ? 'not_stored' : 'stale';
  if (s.hasInputs) return { source: 'live', reason, ...age };
  if (s.hasDefault) return { source: 'default', reason, ...age };
  const error = reason === 'no_key' ? 'PREDICTION_KEY_MISSING' : reason === 'store_unavailable' ? 'PREDICTION_STORE_UNAVAILABLE' : 'PREDICTION_NOT_FOUND';
  return { source: 'none', reason, error, ...age };
}

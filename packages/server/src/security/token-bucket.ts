// The token bucket: the one decision every rate limiter makes (in memory here; in Redis by the Lua
// script of redis-rate-limiter.ts, which does the same arithmetic). A bucket holds up to `burst`
// tokens and refills continuously at `ratePerSecond`; a request takes one token from each bucket
// that applies to it — from all of them or from none, so a request refused by one bucket costs
// the others nothing. A bucket never seen (or forgotten after it refilled) is full.
//
// Pure: time is the `nowMs` argument (any clock with a common origin; only differences matter).

export interface BucketLimit {
  /** Tokens added per second (fractional allowed), > 0. */
  readonly ratePerSecond: number;
  /** Most tokens the bucket holds: the largest burst of requests taken at once, >= 1. */
  readonly burst: number;
}

export interface BucketState {
  /** Tokens left at `updatedMs` (fractional). */
  readonly tokens: number;
  /** Time of the last refill. Never moves back: a clock that does (another replica's) refills nothing. */
  readonly updatedMs: number;
}

export interface TakeDecision {
  readonly allowed: boolean;
  /** The buckets' states after the decision (refilled; one token taken from each when allowed). */
  readonly states: readonly BucketState[];
  /** Refused: ms until every bucket has a token again (the longest wait); 0 when allowed. */
  readonly retryAfterMs: number;
  /** Refused: the index of the bucket with the longest wait; -1 when allowed. */
  readonly refusedBy: number;
}

/** The bucket at `nowMs`: refilled for the time since its last update, never above `burst`. */
export function refill(state: BucketState | undefined, limit: BucketLimit, nowMs: number): BucketState {
  if (state === undefined) return { tokens: limit.burst, updatedMs: nowMs };
  const elapsedMs = nowMs - state.updatedMs;
  if (elapsedMs <= 0) return { tokens: Math.min(limit.burst, state.tokens), updatedMs: state.updatedMs };
  return { tokens: Math.min(limit.burst, state.tokens + (elapsedMs * limit.ratePerSecond) / 1000), updatedMs: nowMs };
}

/**
 * Takes `cost` tokens (default 1) from every bucket, or none: allowed when each holds at least
 * `cost` after its refill. Refused, `retryAfterMs` says when the slowest bucket will have refilled
 * enough (a cost above a bucket's burst never fits: the caller keeps cost <= burst).
 */
export function takeTokens(buckets: readonly { readonly state: BucketState | undefined; readonly limit: BucketLimit }[], nowMs: number, cost = 1): TakeDecision {
  const states = buckets.map((b) => refill(b.state, b.limit, nowMs));
  let retryAfterMs = 0;
  let refusedBy = -1;
  states.forEach((s, i) => {
    if (s.tokens >= cost) return;
    const waitMs = ((cost - s.tokens) * 1000) / buckets[i]!.limit.ratePerSecond;
    if (waitMs > retryAfterMs) {
      retryAfterMs = waitMs;
      refusedBy = i;
    }
  });
  if (refusedBy >= 0) return { allowed: false, states, retryAfterMs, refusedBy };
  return { allowed: true, states: states.map((s) => ({ tokens: s.tokens - cost, updatedMs: s.updatedMs })), retryAfterMs: 0, refusedBy: -1 };
}

/** How long after its last update a bucket is full again, i.e. as good as forgotten (ms). */
export function fullAfterMs(state: BucketState, limit: BucketLimit): number {
  return (Math.max(0, limit.burst - state.tokens) * 1000) / limit.ratePerSecond;
}

/** A Retry-After value: whole seconds, at least 1 (HTTP's header has no fractions, and 0 invites a storm). */
export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000));
}

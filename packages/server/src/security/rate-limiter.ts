// Where token buckets are kept: the interface every backend implements (memory, Redis) and the
// contract suite (testing/rate-limiter-contract.ts) checks. The arithmetic is token-bucket.ts;
// which buckets a request takes from is rate-limits.ts.
import type { BucketLimit } from './token-bucket.ts';

/** One bucket a request takes a token from: its key (unique per backend) and its limit. */
export interface RateBucket {
  readonly key: string;
  readonly limit: BucketLimit;
}

export interface RateDecision {
  readonly allowed: boolean;
  /** Refused: ms until every bucket has a token again, as wholeMs() rounds it; 0 when allowed. */
  readonly retryAfterMs: number;
  /** Refused: the index (in the buckets given) of the bucket that refused, the one with the longest wait; -1 when allowed. */
  readonly refusedBy: number;
}

export interface RateLimiter {
  readonly kind: 'memory' | 'redis';
  /**
   * Takes one token from every bucket, or none (see takeTokens). Answers synchronously when it
   * can (memory), so the hot path allocates no promise. Never rejects: a backend that cannot
   * decide (Redis down or slow) allows the request and reports its health itself.
   */
  take(buckets: readonly RateBucket[]): RateDecision | Promise<RateDecision>;
  /** Releases connections and timers. */
  close(): Promise<void>;
}

export const ALLOWED: RateDecision = Object.freeze({ allowed: true, retryAfterMs: 0, refusedBy: -1 });

/**
 * A refusal's wait in whole ms, at least 1: rounded up, after a tolerance of a nanosecond for the
 * noise of floating-point arithmetic (the Lua script of the Redis limiter rounds the same way).
 */
export function wholeMs(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs - 1e-6));
}

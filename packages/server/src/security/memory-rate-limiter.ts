// Token buckets in this process's memory: each replica enforces the whole budget on its own.
// Memory stays bounded: a bucket that has refilled is as good as absent, so buckets idle longer
// than the slowest configured refill are dropped by a sweep (at most one per sweep interval, off
// the per-request path), and at most `maxBuckets` are kept (over that, the sweep drops the
// oldest — forgetting a bucket only makes it full again).
import type { Clock } from '../core/clock.ts';
import { ALLOWED, wholeMs, type RateBucket, type RateDecision, type RateLimiter } from './rate-limiter.ts';
import { takeTokens, type BucketState } from './token-bucket.ts';

/** Buckets kept at most by default: a million is ~100 MB at worst. */
const MAX_BUCKETS = 1_000_000;
/** Least time between two sweeps. */
const MIN_SWEEP_INTERVAL_MS = 1000;

export class MemoryRateLimiter implements RateLimiter {
  readonly kind = 'memory';
  private readonly buckets = new Map<string, BucketState>();
  private nextSweepMs: number;
  private readonly sweepIntervalMs: number;

  /**
   * @param forgetAfterMs time after which any bucket idle that long is full (the longest
   *   burst / ratePerSecond of the configured limits): such buckets are dropped.
   */
  constructor(
    private readonly clock: Clock,
    private readonly forgetAfterMs: number,
    private readonly maxBuckets = MAX_BUCKETS,
  ) {
    this.sweepIntervalMs = Math.max(MIN_SWEEP_INTERVAL_MS, forgetAfterMs);
    this.nextSweepMs = clock.now() + this.sweepIntervalMs;
  }

  take(buckets: readonly RateBucket[]): RateDecision {
    if (buckets.length === 0) return ALLOWED;
    const nowMs = this.clock.now();
    const decision = takeTokens(
      buckets.map((b) => ({ state: this.buckets.get(b.key), limit: b.limit })),
      nowMs,
    );
    if (!decision.allowed) return { allowed: false, retryAfterMs: wholeMs(decision.retryAfterMs), refusedBy: decision.refusedBy };
    for (let i = 0; i < buckets.length; i++) this.buckets.set(buckets[i]!.key, decision.states[i]!);
    if (nowMs >= this.nextSweepMs || this.buckets.size > this.maxBuckets) this.sweep(nowMs);
    return ALLOWED;
  }

  /** Buckets held now (for tests). */
  get size(): number {
    return this.buckets.size;
  }

  /** Drops the buckets idle long enough to be full, then the oldest while over maxBuckets. */
  private sweep(nowMs: number): void {
    this.nextSweepMs = nowMs + this.sweepIntervalMs;
    for (const [key, state] of this.buckets) if (nowMs - state.updatedMs >= this.forgetAfterMs) this.buckets.delete(key);
    // Map order is first insertion: roughly the oldest callers first.
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= this.maxBuckets) break;
      this.buckets.delete(key);
    }
  }

  async close(): Promise<void> {
    this.buckets.clear();
  }
}

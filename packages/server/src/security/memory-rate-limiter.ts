// Token buckets in this process's memory: each replica enforces the whole budget on its own.
// Memory stays bounded: a bucket that has refilled is as good as absent, so buckets idle longer
// than the slowest configured refill are dropped as requests come, and at most `maxBuckets` are
// kept (the least recently used go first — forgetting a bucket only makes it full again).
import type { Clock } from '../core/clock.ts';
import { ALLOWED, wholeMs, type RateBucket, type RateDecision, type RateLimiter } from './rate-limiter.ts';
import { takeTokens, type BucketState } from './token-bucket.ts';

/** Buckets kept at most by default: a million is ~100 MB at worst. */
const MAX_BUCKETS = 1_000_000;

export class MemoryRateLimiter implements RateLimiter {
  readonly kind = 'memory';
  /** In order of last update (each update re-inserts), so the idlest come first. */
  private readonly buckets = new Map<string, BucketState>();

  /**
   * @param forgetAfterMs time after which any bucket idle that long is full (the longest
   *   burst / ratePerSecond of the configured limits): such buckets are dropped.
   */
  constructor(
    private readonly clock: Clock,
    private readonly forgetAfterMs: number,
    private readonly maxBuckets = MAX_BUCKETS,
  ) {}

  take(buckets: readonly RateBucket[]): RateDecision {
    if (buckets.length === 0) return ALLOWED;
    const nowMs = this.clock.now();
    const decision = takeTokens(
      buckets.map((b) => ({ state: this.buckets.get(b.key), limit: b.limit })),
      nowMs,
    );
    if (!decision.allowed) return { allowed: false, retryAfterMs: wholeMs(decision.retryAfterMs), refusedBy: decision.refusedBy };
    decision.states.forEach((state, i) => {
      const key = buckets[i]!.key;
      this.buckets.delete(key);
      this.buckets.set(key, state);
    });
    this.forget(nowMs);
    return ALLOWED;
  }

  /** Buckets held now (for tests). */
  get size(): number {
    return this.buckets.size;
  }

  private forget(nowMs: number): void {
    for (const [key, state] of this.buckets) {
      if (this.buckets.size <= this.maxBuckets && nowMs - state.updatedMs < this.forgetAfterMs) return;
      this.buckets.delete(key);
    }
  }

  async close(): Promise<void> {
    this.buckets.clear();
  }
}

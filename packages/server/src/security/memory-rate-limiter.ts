// Token buckets in this process's memory: each replica enforces the whole budget on its own.
// Memory stays bounded: a bucket that has refilled is as good as absent, so buckets idle longer
// than the slowest configured refill are dropped by a sweep that starts once per sweep interval and
// advances a few buckets per request (no request pays for a pass over all of them), and at most
// `maxBuckets` are kept (over that, the first made go — forgetting a bucket only makes it full again).
import type { Clock } from '../core/clock.ts';
import { ALLOWED, wholeMs, type RateBucket, type RateDecision, type RateLimiter } from './rate-limiter.ts';
import { takeTokens, type BucketState } from './token-bucket.ts';

/** Buckets kept at most by default: a million is ~100 MB at worst. */
const MAX_BUCKETS = 1_000_000;
/** Least time between the starts of two sweeps. */
const MIN_SWEEP_INTERVAL_MS = 1000;
/** Buckets a sweep looks at per request. */
const SWEEP_STEP = 16;

export class MemoryRateLimiter implements RateLimiter {
  readonly kind = 'memory';
  private readonly buckets = new Map<string, BucketState>();
  private nextSweepMs: number;
  private readonly sweepIntervalMs: number;
  /** The sweep under way (a Map iterator sees deletions and insertions made meanwhile). */
  private sweeping: Iterator<[string, BucketState]> | undefined;

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
    if (this.sweeping !== undefined || nowMs >= this.nextSweepMs) this.sweep(nowMs);
    const decision = takeTokens(
      buckets.map((b) => ({ state: this.buckets.get(b.key), limit: b.limit })),
      nowMs,
    );
    if (!decision.allowed) return { allowed: false, retryAfterMs: wholeMs(decision.retryAfterMs), refusedBy: decision.refusedBy };
    for (let i = 0; i < buckets.length; i++) this.buckets.set(buckets[i]!.key, decision.states[i]!);
    if (this.buckets.size > this.maxBuckets) this.dropFirst();
    return ALLOWED;
  }

  /** Buckets held now (for tests). */
  get size(): number {
    return this.buckets.size;
  }

  /** Advances the sweep by SWEEP_STEP buckets (starting one if due), dropping those idle long enough to be full. */
  private sweep(nowMs: number): void {
    if (this.sweeping === undefined) {
      this.sweeping = this.buckets.entries();
      this.nextSweepMs = nowMs + this.sweepIntervalMs;
    }
    for (let i = 0; i < SWEEP_STEP; i++) {
      const next = this.sweeping.next();
      if (next.done === true) {
        this.sweeping = undefined;
        return;
      }
      const [key, state] = next.value;
      if (nowMs - state.updatedMs >= this.forgetAfterMs) this.buckets.delete(key);
    }
  }

  /** Drops the first made buckets (Map order) while over maxBuckets. */
  private dropFirst(): void {
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= this.maxBuckets) return;
      this.buckets.delete(key);
    }
  }

  async close(): Promise<void> {
    this.buckets.clear();
  }
}

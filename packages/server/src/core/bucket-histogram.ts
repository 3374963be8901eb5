// A fixed-bucket histogram for the hot path: a binary search and two additions per observation,
// no allocation, no label hashing. The exporter turns it into Prometheus buckets at scrape time.

import { bucketIndex } from './bounds.ts';

export class BucketHistogram {
  /** counts[i]: observations in (bounds[i-1], bounds[i]]; the last slot is (last bound, +Inf). */
  readonly counts: Float64Array;
  count = 0;
  sum = 0;

  /** The bounds as a Float64Array: bucketIndex then sees one array type everywhere (fast). */
  private readonly search: Float64Array;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
    this.search = Float64Array.from(bounds);
  }

  observe(value: number): void {
    this.counts[bucketIndex(this.search, value)]!++;
    this.count++;
    this.sum += value;
  }

  /**
   * The q-quantile (0..1) as the upper bound of the bucket it falls in (the last bound when it is
   * beyond them all); undefined when empty.
   */
  quantile(q: number): number | undefined {
    if (this.count === 0) return undefined;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return this.bounds[Math.min(i, this.bounds.length - 1)];
    }
    return this.bounds.at(-1);
  }

  /** Cumulative counts per bound (Prometheus `le` buckets), +Inf last. */
  cumulative(): number[] {
    const out = new Array<number>(this.counts.length);
    let running = 0;
    for (let i = 0; i < this.counts.length; i++) out[i] = running += this.counts[i]!;
    return out;
  }
}

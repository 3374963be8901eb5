// A log-linear latency histogram in the spirit of HdrHistogram: values in nanoseconds, exact
// below 128 ns, then 128 linear sub-buckets per power of two, so a bucket is at most 1/128 of
// its lower bound wide (0.78%) and a reported percentile (the bucket's midpoint, clamped to the
// observed min and max) is within 0.4% of an observed value. Covers 0 ns to 2^37 ns (~137 s);
// larger values land in the last bucket (max stays exact). Recording is O(1) and allocation-free.

/** Sub-buckets per power of two; also the exact linear range at the bottom (0..127 ns). */
const SUB_BUCKETS = 128;
const SUB_BITS = 7;
/** Largest exponent covered: values below 2^(MAX_EXP+1) ns (~137 s) get their own bucket. */
const MAX_EXP = 36;
/** Number of buckets: the linear range plus 128 per exponent from 7 to MAX_EXP. */
export const HISTOGRAM_BUCKETS = SUB_BUCKETS + (MAX_EXP - SUB_BITS + 1) * SUB_BUCKETS;

/** A histogram as plain data: what crosses worker threads and goes into results.json. */
export interface HistogramData {
  /** Count per bucket (length HISTOGRAM_BUCKETS). */
  counts: Float64Array;
  count: number;
  /** Sum of values in ns; with count, the exact mean. */
  sumNs: number;
  /** Exact extremes in ns; Infinity / 0 while empty. */
  minNs: number;
  maxNs: number;
}

/** Bucket index of a value in ns (negative values count as 0). */
export function bucketOf(ns: number): number {
  if (!(ns >= SUB_BUCKETS)) return ns > 0 ? Math.floor(ns) : 0;
  // Exponent of the highest set bit; Math.log2 may be off by one near powers of two.
  let e = Math.floor(Math.log2(ns));
  if (2 ** e > ns) e--;
  else if (2 ** (e + 1) <= ns) e++;
  if (e > MAX_EXP) return HISTOGRAM_BUCKETS - 1;
  const sub = Math.floor(ns / 2 ** (e - SUB_BITS)) - SUB_BUCKETS; // 0..127
  return SUB_BUCKETS + (e - SUB_BITS) * SUB_BUCKETS + sub;
}

/** [low, high) bounds in ns of a bucket. */
export function bucketBounds(index: number): [number, number] {
  if (index < SUB_BUCKETS) return [index, index + 1];
  const e = Math.floor((index - SUB_BUCKETS) / SUB_BUCKETS) + SUB_BITS;
  const sub = (index - SUB_BUCKETS) % SUB_BUCKETS;
  const width = 2 ** (e - SUB_BITS);
  const low = 2 ** e + sub * width;
  return [low, low + width];
}

export class Histogram implements HistogramData {
  counts = new Float64Array(HISTOGRAM_BUCKETS);
  count = 0;
  sumNs = 0;
  minNs = Infinity;
  maxNs = 0;

  /** Records one value in nanoseconds. */
  record(ns: number): void {
    this.counts[bucketOf(ns)]!++;
    this.count++;
    this.sumNs += ns;
    if (ns < this.minNs) this.minNs = ns;
    if (ns > this.maxNs) this.maxNs = ns;
  }

  /** Records a value given in milliseconds (what performance.now() differences are). */
  recordMs(ms: number): void {
    this.record(ms * 1e6);
  }

  /** Adds another histogram's counts into this one. */
  add(other: HistogramData): void {
    const a = this.counts;
    const b = other.counts;
    for (let i = 0; i < a.length; i++) a[i]! += b[i]!;
    this.count += other.count;
    this.sumNs += other.sumNs;
    if (other.minNs < this.minNs) this.minNs = other.minNs;
    if (other.maxNs > this.maxNs) this.maxNs = other.maxNs;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sumNs = 0;
    this.minNs = Infinity;
    this.maxNs = 0;
  }

  /** A copy as plain data (safe to post to another thread or keep after reset()). */
  toData(): HistogramData {
    return { counts: this.counts.slice(), count: this.count, sumNs: this.sumNs, minNs: this.minNs, maxNs: this.maxNs };
  }

  static from(data: HistogramData): Histogram {
    const h = new Histogram();
    h.add(data);
    return h;
  }

  /**
   * The value in ns at percentile p (0..100): the smallest recorded value v such that at least
   * p% of values are ≤ v, to within the bucket resolution. NaN when empty. p=100 is the exact max.
   */
  percentileNs(p: number): number {
    return percentileOf(this, p);
  }

  meanNs(): number {
    return this.count === 0 ? NaN : this.sumNs / this.count;
  }
}

/** percentileNs for plain histogram data. */
export function percentileOf(h: HistogramData, p: number): number {
  if (h.count === 0) return NaN;
  if (p >= 100) return h.maxNs;
  if (p <= 0) return h.minNs;
  // Rank of the wanted value among the sorted values, 1-based (nearest-rank definition).
  const rank = Math.max(1, Math.ceil((p / 100) * h.count));
  let seen = 0;
  const counts = h.counts;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i]!;
    if (seen >= rank) {
      const [low, high] = bucketBounds(i);
      const mid = i < SUB_BUCKETS ? low : (low + high) / 2;
      return Math.min(h.maxNs, Math.max(h.minNs, mid));
    }
  }
  return h.maxNs;
}

/** A histogram's non-empty buckets only: compact for per-second histograms and worker messages. */
export interface SparseHistogram {
  /** Bucket indexes, ascending. */
  index: number[];
  /** Count of each listed bucket. */
  counts: number[];
  count: number;
  sumNs: number;
  minNs: number;
  maxNs: number;
}

export function toSparse(h: HistogramData): SparseHistogram {
  const index: number[] = [];
  const counts: number[] = [];
  const c = h.counts;
  for (let i = 0; i < c.length; i++) {
    if (c[i]! > 0) {
      index.push(i);
      counts.push(c[i]!);
    }
  }
  return { index, counts, count: h.count, sumNs: h.sumNs, minNs: h.minNs, maxNs: h.maxNs };
}

export function fromSparse(s: SparseHistogram): Histogram {
  const h = new Histogram();
  for (let k = 0; k < s.index.length; k++) h.counts[s.index[k]!] = s.counts[k]!;
  h.count = s.count;
  h.sumNs = s.sumNs;
  h.minNs = s.minNs;
  h.maxNs = s.maxNs;
  return h;
}

// The latency histogram: percentiles agree with exact sorted values within the bucket error.
import { describe, expect, it } from 'vitest';
import { bucketBounds, bucketOf, fromSparse, Histogram, HISTOGRAM_BUCKETS, percentileOf, toSparse } from '../src/histogram.ts';
import { seededRandom } from '../src/random.ts';

/** Nearest-rank percentile of sorted values: the definition the histogram approximates. */
function exactPercentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

describe('histogram', () => {
  it('places every value inside its bucket, and buckets are at most 1/128 of their value wide', () => {
    const random = seededRandom(7);
    const wrong: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const ns = Math.exp(random() * Math.log(1.2e11)); // 1 ns .. 120 s, log-uniform
      const [low, high] = bucketBounds(bucketOf(ns));
      if (!(ns >= low && ns < high) || (ns >= 128 && (high - low) / low > 1 / 128)) wrong.push(`${ns} in [${low}, ${high})`);
    }
    expect(wrong).toEqual([]);
    // Exact powers of two start a bucket (Math.log2 rounding is corrected).
    for (let e = 7; e <= 36; e++) expect(bucketBounds(bucketOf(2 ** e))[0]).toBe(2 ** e);
    expect(bucketOf(1e15)).toBe(HISTOGRAM_BUCKETS - 1);
  });

  it('reports percentiles within 1% of the exact values from 1 µs to 60 s', () => {
    const random = seededRandom(42);
    const h = new Histogram();
    const values: number[] = [];
    for (let i = 0; i < 50_000; i++) {
      const ns = 1e3 * Math.exp(random() * Math.log(6e7)); // 1 µs .. 60 s
      values.push(ns);
      h.record(ns);
    }
    values.sort((a, b) => a - b);
    for (const p of [1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99]) {
      const exact = exactPercentile(values, p);
      expect(Math.abs(h.percentileNs(p) - exact) / exact, `p${p}`).toBeLessThanOrEqual(0.01);
    }
    expect(h.percentileNs(100)).toBe(values.at(-1));
    expect(h.percentileNs(0)).toBe(values[0]);
    expect(h.count).toBe(50_000);
    expect(h.meanNs()).toBeCloseTo(values.reduce((s, v) => s + v, 0) / values.length, 0);
  });

  it('is exact for a narrow latency distribution measured in milliseconds', () => {
    const h = new Histogram();
    const ms = [0.8, 1.1, 1.2, 1.25, 2.5, 3, 40];
    for (const v of ms) h.recordMs(v);
    expect(h.percentileNs(50) / 1e6).toBeCloseTo(1.25, 2);
    expect(h.percentileNs(100) / 1e6).toBe(40);
    expect(Math.abs(h.percentileNs(90) / 1e6 - 40) / 40).toBeLessThanOrEqual(0.01);
  });

  it('merges, and round-trips through the sparse form', () => {
    const a = new Histogram();
    const b = new Histogram();
    for (let i = 1; i <= 1000; i++) (i % 2 === 0 ? a : b).record(i * 1000);
    const merged = Histogram.from(a);
    merged.add(b);
    expect(merged.count).toBe(1000);
    expect(merged.minNs).toBe(1000);
    expect(merged.maxNs).toBe(1_000_000);
    expect(Math.abs(merged.percentileNs(50) - 500_000) / 500_000).toBeLessThanOrEqual(0.01);
    const sparse = toSparse(merged);
    expect(sparse.index.length).toBeLessThan(1000);
    const back = fromSparse(sparse);
    expect(Array.from(back.counts)).toEqual(Array.from(merged.counts));
    expect(percentileOf(back, 99)).toBe(merged.percentileNs(99));
  });

  it('is empty until something is recorded, and reset() empties it', () => {
    const h = new Histogram();
    expect(h.percentileNs(50)).toBeNaN();
    h.record(5000);
    expect(h.percentileNs(50)).toBe(5000);
    h.reset();
    expect(h.count).toBe(0);
    expect(h.percentileNs(99)).toBeNaN();
  });
});

import { describe, expect, it } from 'vitest';
import { histogramQuantile } from '../testing/prometheus-text.ts';
import { BucketHistogram } from './bucket-histogram.ts';
import { DURATION_BUCKETS_SECONDS } from './duration-buckets.ts';

describe('bucket histogram', () => {
  it('counts each value in the first bucket whose bound it does not exceed', () => {
    const h = new BucketHistogram([1, 2, 5]);
    for (const v of [0, 1, 1.5, 2, 4.9, 5, 5.1, 100]) h.observe(v);
    expect([...h.counts]).toEqual([2, 2, 2, 2]);
    expect(h.cumulative()).toEqual([2, 4, 6, 8]);
    expect(h.count).toBe(8);
    expect(h.sum).toBeCloseTo(119.5, 12);
  });

  it('duration buckets run from 0.1 ms to 10 s, 10 per decade, neighbours 25–28% apart', () => {
    expect(DURATION_BUCKETS_SECONDS[0]).toBe(0.0001);
    expect(DURATION_BUCKETS_SECONDS.at(-1)).toBe(10);
    expect(DURATION_BUCKETS_SECONDS).toHaveLength(51);
    for (let i = 1; i < DURATION_BUCKETS_SECONDS.length; i++) {
      const ratio = DURATION_BUCKETS_SECONDS[i]! / DURATION_BUCKETS_SECONDS[i - 1]!;
      expect(ratio).toBeGreaterThan(1.2);
      expect(ratio).toBeLessThan(1.29);
    }
  });

  it('histogram_quantile over its buckets lands within one bucket of the exact quantile', () => {
    const h = new BucketHistogram(DURATION_BUCKETS_SECONDS);
    // Latencies from 0.2 ms to 40 ms, spread log-uniformly (deterministic).
    const values = Array.from({ length: 10_000 }, (_, i) => 0.0002 * 200 ** (i / 9_999));
    for (const v of values) h.observe(v);
    const buckets = [...DURATION_BUCKETS_SECONDS, Infinity].map((le, i) => ({ le, count: h.cumulative()[i]! }));
    for (const q of [0.5, 0.95, 0.99]) {
      const exact = values[Math.ceil(q * values.length) - 1]!;
      const estimate = histogramQuantile(q, buckets);
      expect(estimate / exact, `q=${q}`).toBeGreaterThan(1 / 1.29);
      expect(estimate / exact, `q=${q}`).toBeLessThan(1.29);
    }
  });
});

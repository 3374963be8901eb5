// The latency buckets every duration histogram uses (Prometheus metrics, endpoint arms), so that
// reports and dashboards agree.

/**
 * Latency buckets in seconds: 10 per decade (the R10 series 1, 1.25, 1.6, 2, 2.5, 3.15, 4, 5,
 * 6.3, 8) from 0.1 ms to 10 s, so neighbouring bounds differ by 25–28% and a histogram_quantile
 * lands within one such step of the true quantile anywhere in that range.
 */
export const DURATION_BUCKETS_SECONDS: readonly number[] = (() => {
  const steps = [1, 1.25, 1.6, 2, 2.5, 3.15, 4, 5, 6.3, 8];
  const bounds: number[] = [];
  for (let exponent = -4; exponent <= 1; exponent++) {
    for (const step of steps) {
      const bound = Number((step * 10 ** exponent).toPrecision(3));
      if (bound <= 10) bounds.push(bound);
    }
  }
  return Object.freeze(bounds);
})();

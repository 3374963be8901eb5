// Drift statistics as pure functions of bin counts: the bins are fixed at baseline quantiles,
// so live traffic costs one binary search and one increment per value, and a window is compared
// in O(bins), never by sorting raw values.

/** Proportions below this count as this, so that an empty bin does not make PSI infinite. */
export const PSI_FLOOR = 1e-4;

/**
 * Interior edges that split `sorted` (ascending) into `bins` bins of equal share: the values at
 * quantiles 1/bins … (bins-1)/bins. Repeated values give repeated edges (and empty bins).
 */
export function quantileEdges(sorted: ArrayLike<number>, bins: number): Float64Array {
  const edges = new Float64Array(bins - 1);
  const n = sorted.length;
  for (let j = 1; j < bins; j++) edges[j - 1] = sorted[Math.min(n - 1, Math.floor((j * n) / bins))]!;
  return edges;
}

const total = (counts: ArrayLike<number>): number => {
  let n = 0;
  for (let i = 0; i < counts.length; i++) n += counts[i]!;
  return n;
};

/**
 * Population stability index Σ (a − e)·ln(a / e) over bins, with e the baseline (expected) and a
 * the window (actual) proportions, each floored at PSI_FLOOR. 0 for identical shares; < 0.1 is
 * usually read as stable, > 0.2 as a real shift.
 */
export function psi(expected: ArrayLike<number>, actual: ArrayLike<number>): number {
  const ne = total(expected);
  const na = total(actual);
  if (ne === 0 || na === 0) return 0;
  let sum = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i]! / ne, PSI_FLOOR);
    const a = Math.max(actual[i]! / na, PSI_FLOOR);
    sum += (a - e) * Math.log(a / e);
  }
  return sum;
}

/**
 * Two-sample Kolmogorov–Smirnov statistic from counts over the same ordered bins: the largest gap
 * between the two cumulative shares at a bin edge. With bins at baseline percentiles it is the
 * exact statistic evaluated at those 100 points (a lower bound of the exact one, within 1%).
 */
export function ksStatistic(expected: ArrayLike<number>, actual: ArrayLike<number>): number {
  const ne = total(expected);
  const na = total(actual);
  if (ne === 0 || na === 0) return 0;
  let ce = 0;
  let ca = 0;
  let max = 0;
  for (let i = 0; i < expected.length; i++) {
    ce += expected[i]!;
    ca += actual[i]!;
    max = Math.max(max, Math.abs(ce / ne - ca / na));
  }
  return max;
}

/** Sums groups of `size` neighbouring bins (fine percentile bins → the coarser PSI bins). */
export function groupBins(counts: ArrayLike<number>, size: number): Float64Array {
  const out = new Float64Array(Math.ceil(counts.length / size));
  for (let i = 0; i < counts.length; i++) out[Math.floor(i / size)]! += counts[i]!;
  return out;
}

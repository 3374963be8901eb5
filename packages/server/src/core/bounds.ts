// Finding a value's bucket among ascending upper bounds: the one search behind histograms
// (metrics) and binned distributions (drift), on the hot path of every observed request.

/**
 * The index of the first bound that `value` does not exceed, or `bounds.length` when it exceeds
 * them all. `bounds` must be ascending (repeats allowed: the first of equal bounds wins). A
 * Float64Array only: one element kind keeps this call monomorphic and inlined.
 */
export function bucketIndex(bounds: Float64Array, value: number): number {
  let lo = 0;
  let hi = bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (value <= bounds[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

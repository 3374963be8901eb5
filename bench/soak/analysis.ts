// The soak's verdict, a pure function of its samples and outcome counts: is resource use flat over
// the steady part of the run (the last two thirds: the first third is warm-up — JIT, pools,
// caches filling), and did any request fail that the soak did not fail on purpose?

export interface Sample {
  /** Seconds since the traffic started. */
  t: number;
  rssBytes: number;
  heapUsedBytes: number;
  activeHandles: number;
  /** Event-loop delay p99 since the previous sample (prom-client's histogram), in ms. */
  eventLoopP99Ms: number;
}

export interface Band {
  /** Most RSS growth allowed over the steady part (least-squares slope × its length): max(bytes, fraction of mean). */
  rssGrowthBytes: number;
  rssGrowthFraction: number;
  heapGrowthBytes: number;
  heapGrowthFraction: number;
  /** Most active handles in the steady part, above the most in the warm-up. */
  extraHandles: number;
}

export const DEFAULT_BAND: Band = { rssGrowthBytes: 24 * 2 ** 20, rssGrowthFraction: 0.1, heapGrowthBytes: 12 * 2 ** 20, heapGrowthFraction: 0.1, extraHandles: 20 };

export interface Trend {
  mean: number;
  min: number;
  max: number;
  /** Least-squares slope per minute of the floor (see floorPoints). */
  slopePerMinute: number;
  /** slopePerMinute × the steady part's length. */
  projectedGrowth: number;
  allowedGrowth: number;
  flat: boolean;
}

export interface Verdict {
  steadyFromSeconds: number;
  rss: Trend;
  heap: Trend;
  handles: { warmupMax: number; steadyMax: number; flat: boolean };
  eventLoopP99Ms: { median: number; max: number };
  failedRequests: number;
  pass: boolean;
}

function slopePerSecond(points: readonly { t: number; v: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mt = points.reduce((s, p) => s + p.t, 0) / n;
  const mv = points.reduce((s, p) => s + p.v, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.v - mv);
    den += (p.t - mt) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/**
 * The floor of a sawtooth: the lowest point of each of `windows` consecutive slices. Garbage
 * collection makes heap (and RSS) rise and fall; a leak shows as a rising floor, so the slope is
 * fitted to the floor, not to every sample.
 */
export function floorPoints(points: readonly { t: number; v: number }[], windows = 6): { t: number; v: number }[] {
  const size = Math.max(1, Math.floor(points.length / windows));
  const out: { t: number; v: number }[] = [];
  for (let i = 0; i + size <= points.length; i += size) {
    const slice = points.slice(i, i + size);
    out.push(slice.reduce((low, p) => (p.v < low.v ? p : low)));
  }
  return out;
}

function trend(points: readonly { t: number; v: number }[], spanSeconds: number, allowBytes: number, allowFraction: number): Trend {
  const values = points.map((p) => p.v);
  const mean = values.reduce((s, v) => s + v, 0) / Math.max(1, values.length);
  const perSecond = slopePerSecond(floorPoints(points));
  const projectedGrowth = perSecond * spanSeconds;
  const allowedGrowth = Math.max(allowBytes, allowFraction * mean);
  return { mean, min: Math.min(...values), max: Math.max(...values), slopePerMinute: perSecond * 60, projectedGrowth, allowedGrowth, flat: projectedGrowth <= allowedGrowth };
}

/** `failedRequests`: requests that failed other than on purpose (the caller counts them by outcome). */
export function verdict(samples: readonly Sample[], failedRequests: number, band: Band = DEFAULT_BAND): Verdict {
  const end = samples.at(-1)?.t ?? 0;
  const steadyFromSeconds = end / 3;
  const warmup = samples.filter((s) => s.t < steadyFromSeconds);
  const steady = samples.filter((s) => s.t >= steadyFromSeconds);
  const span = end - steadyFromSeconds;
  const rss = trend(steady.map((s) => ({ t: s.t, v: s.rssBytes })), span, band.rssGrowthBytes, band.rssGrowthFraction);
  const heap = trend(steady.map((s) => ({ t: s.t, v: s.heapUsedBytes })), span, band.heapGrowthBytes, band.heapGrowthFraction);
  const warmupMax = Math.max(0, ...warmup.map((s) => s.activeHandles));
  const steadyMax = Math.max(0, ...steady.map((s) => s.activeHandles));
  const handles = { warmupMax, steadyMax, flat: steadyMax <= warmupMax + band.extraHandles };
  const lags = samples.map((s) => s.eventLoopP99Ms).sort((a, b) => a - b);
  const eventLoopP99Ms = { median: lags[Math.floor(lags.length / 2)] ?? 0, max: lags.at(-1) ?? 0 };
  return { steadyFromSeconds, rss, heap, handles, eventLoopP99Ms, failedRequests, pass: rss.flat && heap.flat && handles.flat && failedRequests === 0 && steady.length >= 3 };
}

// The soak's verdict (analysis.ts) decides whether CI's soak step passes: table-tested here on
// made-up series, so a change to the band or the floor fitting shows in a unit test, not only in a
// 30-minute run.
import { describe, expect, it } from 'vitest';
import { floorPoints, verdict, type Sample } from './analysis.ts';

const MIB = 2 ** 20;

/** 120 samples, one a second, from per-second functions of t. */
function series(f: { rss?: (t: number) => number; heap?: (t: number) => number; handles?: (t: number) => number }): Sample[] {
  return Array.from({ length: 120 }, (_, t) => ({
    t,
    rssBytes: f.rss?.(t) ?? 200 * MIB,
    heapUsedBytes: f.heap?.(t) ?? 50 * MIB,
    activeHandles: f.handles?.(t) ?? 19,
    eventLoopP99Ms: 10 + (t % 3),
  }));
}

describe('the soak verdict', () => {
  it.each([
    ['flat use, nothing failed', series({}), 0, { pass: true, rss: true, heap: true, handles: true }],
    // A sawtooth whose floor stays put (collections bring it back): not a leak.
    ['a garbage-collected sawtooth on a flat floor', series({ heap: (t) => 50 * MIB + (t % 10) * 4 * MIB }), 0, { pass: true, rss: true, heap: true, handles: true }],
    // 1 MiB/s over the last 80 s: ~80 MiB, past max(24 MiB, 10% of the mean).
    ['RSS rising steadily', series({ rss: (t) => 200 * MIB + t * MIB }), 0, { pass: false, rss: false, heap: true, handles: true }],
    ['a heap floor rising under the sawtooth', series({ heap: (t) => 50 * MIB + t * 0.5 * MIB + (t % 10) * 4 * MIB }), 0, { pass: false, rss: true, heap: false, handles: true }],
    ['handles climbing past the warm-up most + 20', series({ handles: (t) => 19 + Math.floor(t / 2) }), 0, { pass: false, rss: true, heap: true, handles: false }],
    ['flat use but a request failed', series({}), 1, { pass: false, rss: true, heap: true, handles: true }],
  ] as const)('%s', (_name, samples, failed, expected) => {
    const v = verdict(samples, failed);
    expect({ pass: v.pass, rss: v.rss.flat, heap: v.heap.flat, handles: v.handles.flat }).toEqual(expected);
    expect(v.steadyFromSeconds).toBeCloseTo(119 / 3, 6);
    expect(v.eventLoopP99Ms).toEqual({ median: 11, max: 12 });
  });

  it('fails a run too short to have a steady part of three samples', () => {
    expect(verdict(series({}).slice(0, 3), 0).pass).toBe(false);
  });

  it('fits the floor: the lowest point of each of six slices', () => {
    const points = Array.from({ length: 12 }, (_, t) => ({ t, v: t % 2 === 0 ? 10 + t : 100 }));
    expect(floorPoints(points)).toEqual([0, 2, 4, 6, 8, 10].map((t) => ({ t, v: 10 + t })));
  });
});

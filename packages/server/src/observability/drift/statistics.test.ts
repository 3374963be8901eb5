import { describe, expect, it } from 'vitest';
import { bucketIndex } from '../../core/bounds.ts';
import { groupBins, ksStatistic, psi, quantileEdges, PSI_FLOOR } from './statistics.ts';

describe('drift statistics', () => {
  it('PSI is 0 for equal shares and Σ (a − e) ln(a / e) otherwise', () => {
    expect(psi([10, 20, 30], [1, 2, 3])).toBe(0);
    expect(psi([50, 50], [25, 75])).toBeCloseTo((0.25 - 0.5) * Math.log(0.25 / 0.5) + (0.75 - 0.5) * Math.log(0.75 / 0.5), 12);
    // An empty bin counts as PSI_FLOOR, so the index stays finite.
    expect(psi([50, 50], [0, 100])).toBeCloseTo((PSI_FLOOR - 0.5) * Math.log(PSI_FLOOR / 0.5) + 0.5 * Math.log(2), 12);
    expect(psi([0, 0], [1, 1])).toBe(0);
  });

  it('KS is the largest gap between the cumulative shares', () => {
    expect(ksStatistic([50, 50], [25, 75])).toBeCloseTo(0.25, 12);
    expect(ksStatistic([10, 0, 0, 10], [0, 0, 10, 10])).toBeCloseTo(0.5, 12);
    expect(ksStatistic([1, 2, 3], [2, 4, 6])).toBe(0);
  });

  it('quantile edges split a sample into equal shares; bucketIndex finds the bin', () => {
    const sorted = Float64Array.from({ length: 10 }, (_, i) => i + 1);
    expect([...quantileEdges(sorted, 2)]).toEqual([6]);
    expect([...quantileEdges(sorted, 5)]).toEqual([3, 5, 7, 9]);
    const edges = Float64Array.from([3, 5, 7, 9]);
    expect([0, 3, 3.5, 9, 9.5, 100].map((v) => bucketIndex(edges, v))).toEqual([0, 0, 1, 3, 4, 4]);
    expect([...groupBins([1, 2, 3, 4, 5], 2)]).toEqual([3, 7, 5]);
  });
});

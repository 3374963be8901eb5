import { describe, expect, it } from 'vitest';
import { chooseEvictions, fitsBeside, type ResidentVersion } from './residency.ts';

const r = (key: string, lastUsedMs: number, bytes = 100, evictable = true): ResidentVersion => ({ key, lastUsedMs, bytes, evictable });

describe('residency', () => {
  const table = [
    { name: 'no limits: nothing to evict', resident: [r('a', 1), r('b', 2)], limits: { maxLoadedVersions: 0, memoryBudgetBytes: 0 }, incoming: 1e9, expected: [] },
    { name: 'room left', resident: [r('a', 1)], limits: { maxLoadedVersions: 2, memoryBudgetBytes: 0 }, incoming: 100, expected: [] },
    { name: 'full: the least recently used goes', resident: [r('a', 5), r('b', 1), r('c', 3)], limits: { maxLoadedVersions: 3, memoryBudgetBytes: 0 }, incoming: 100, expected: ['b'] },
    {
      name: 'over budget: as many as the bytes need, oldest first',
      resident: [r('a', 5, 400), r('b', 1, 100), r('c', 3, 300)],
      limits: { maxLoadedVersions: 0, memoryBudgetBytes: 1000 },
      incoming: 450,
      expected: ['b', 'c'],
    },
    {
      name: 'a version that cannot be evicted is skipped',
      resident: [r('a', 1, 100, false), r('b', 2)],
      limits: { maxLoadedVersions: 2, memoryBudgetBytes: 0 },
      incoming: 100,
      expected: ['b'],
    },
    {
      name: 'cannot fit: larger than the whole budget',
      resident: [r('a', 1)],
      limits: { maxLoadedVersions: 0, memoryBudgetBytes: 1000 },
      incoming: 2000,
      expected: undefined,
    },
    {
      name: 'cannot fit: nothing evictable',
      resident: [r('a', 1, 100, false)],
      limits: { maxLoadedVersions: 1, memoryBudgetBytes: 0 },
      incoming: 100,
      expected: undefined,
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      expect(chooseEvictions(row.resident, row.limits, row.incoming)).toEqual(row.expected);
    });
  }

  it('fitsBeside counts versions and bytes', () => {
    expect(fitsBeside([r('a', 1)], { maxLoadedVersions: 1, memoryBudgetBytes: 0 }, 1)).toBe(false);
    expect(fitsBeside([r('a', 1, 500)], { maxLoadedVersions: 0, memoryBudgetBytes: 1000 }, 500)).toBe(true);
    expect(fitsBeside([r('a', 1, 500)], { maxLoadedVersions: 0, memoryBudgetBytes: 1000 }, 501)).toBe(false);
  });
});

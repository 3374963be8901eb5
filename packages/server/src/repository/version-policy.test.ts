import { describe, expect, it } from 'vitest';
import { describeVersionPolicy, missingSpecificVersions, selectVersions } from './version-policy.ts';

describe('version policy', () => {
  const cases = [
    { policy: { kind: 'latest', count: 1 }, available: [3, 1, 2], selected: [3] },
    { policy: { kind: 'latest', count: 2 }, available: [1, 2, 10], selected: [2, 10] },
    { policy: { kind: 'latest', count: 5 }, available: [4, 2], selected: [2, 4] },
    { policy: { kind: 'latest', count: 1 }, available: [], selected: [] },
    { policy: { kind: 'specific', versions: [1, 3] }, available: [1, 2, 3, 4], selected: [1, 3] },
    { policy: { kind: 'specific', versions: [1, 7] }, available: [1, 2], selected: [1] },
    { policy: { kind: 'all' }, available: [2, 1, 2], selected: [1, 2] },
  ] as const;
  for (const c of cases) {
    it(`${describeVersionPolicy(c.policy)} of [${c.available.join(', ')}] is [${c.selected.join(', ')}]`, () => {
      expect(selectVersions(c.policy, c.available)).toEqual(c.selected);
    });
  }

  it('reports the specific versions the repository lacks', () => {
    expect(missingSpecificVersions({ kind: 'specific', versions: [1, 7, 9] }, [1, 2])).toEqual([7, 9]);
    expect(missingSpecificVersions({ kind: 'latest', count: 3 }, [])).toEqual([]);
  });
});

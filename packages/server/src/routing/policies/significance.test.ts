import { describe, expect, it } from 'vitest';
import { normalCdf, twoProportionTest } from './significance.ts';

describe('two-proportion z-test', () => {
  it('normal CDF at known points', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.96)).toBeCloseTo(0.975002, 5);
    expect(normalCdf(-1.6449)).toBeCloseTo(0.05, 4);
  });

  it('matches a worked example: 200/1000 against 250/1000', () => {
    // Pooled p = 0.225, se = sqrt(0.225 * 0.775 * 0.002) = 0.018674; z = 0.05 / 0.018674 = 2.6775
    const t = twoProportionTest({ successes: 200, trials: 1000 }, { successes: 250, trials: 1000 })!;
    expect(t.difference).toBeCloseTo(0.05, 10);
    expect(t.z).toBeCloseTo(2.6775, 3);
    expect(t.pValue).toBeCloseTo(0.00742, 4);
    expect(t.significant).toBe(true);
  });

  it('is not significant for equal rates or tiny samples', () => {
    expect(twoProportionTest({ successes: 100, trials: 1000 }, { successes: 101, trials: 1000 })!.significant).toBe(false);
    expect(twoProportionTest({ successes: 1, trials: 10 }, { successes: 9, trials: 10 })!.significant).toBe(false);
    expect(twoProportionTest({ successes: 0, trials: 0 }, { successes: 1, trials: 1 })).toBeUndefined();
  });
});

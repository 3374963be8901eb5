// The two-proportion z-test: is one arm's outcome rate different from another's beyond chance?

export interface Proportion {
  successes: number;
  trials: number;
}

export interface TwoProportionTest {
  /** Rate of b minus rate of a. */
  difference: number;
  z: number;
  /** Two-sided. */
  pValue: number;
  /** pValue < 0.05, with at least 30 trials and 5 successes and failures on each side. */
  significant: boolean;
}

/** The standard normal CDF (Abramowitz–Stegun 7.1.26 for erf; error < 1.5e-7). */
export function normalCdf(x: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(x) / Math.SQRT2));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** Pooled two-proportion z-test of b against a; undefined when either arm has no trials. */
export function twoProportionTest(a: Proportion, b: Proportion): TwoProportionTest | undefined {
  if (a.trials === 0 || b.trials === 0) return undefined;
  const pa = a.successes / a.trials;
  const pb = b.successes / b.trials;
  const pooled = (a.successes + b.successes) / (a.trials + b.trials);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials));
  const z = se === 0 ? 0 : (pb - pa) / se;
  const pValue = se === 0 ? 1 : 2 * (1 - normalCdf(Math.abs(z)));
  const enough = (p: Proportion): boolean => p.trials >= 30 && p.successes >= 5 && p.trials - p.successes >= 5;
  return { difference: pb - pa, z, pValue, significant: pValue < 0.05 && enough(a) && enough(b) };
}

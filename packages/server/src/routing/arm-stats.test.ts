import { describe, expect, it } from 'vitest';
import { ArmStats, LatencyHistogram } from './arm-stats.ts';

describe('arm statistics', () => {
  it('quantiles are the upper edge of their bucket, within ~12%', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 1000; i++) h.record(i / 10); // 0.1 … 100 ms
    expect(h.quantile(0.5)! / 50).toBeGreaterThanOrEqual(1);
    expect(h.quantile(0.5)! / 50).toBeLessThan(1.13);
    expect(h.quantile(0.99)! / 99).toBeGreaterThanOrEqual(1);
    expect(h.quantile(0.99)! / 99).toBeLessThan(1.13);
    expect(new LatencyHistogram().quantile(0.5)).toBeUndefined();
  });

  it('client errors are not held against the arm; feedback gives a rate', () => {
    const s = new ArmStats();
    s.record('ok', 5);
    s.record('server-error', 0);
    s.record('client-error', 0);
    s.feedback(true);
    s.feedback(false);
    s.feedback(true);
    expect(s.window()).toMatchObject({ requests: 2, errors: 1 });
    expect(s.report()).toMatchObject({ requests: 3, errors: 1, clientErrors: 1, feedback: { outcomes: 3, successes: 2 } });
    expect(s.report().feedback.rate).toBeCloseTo(2 / 3, 10);
  });
});

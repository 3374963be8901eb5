import { describe, expect, it } from 'vitest';
import { ArmStats } from './arm-stats.ts';

describe('arm statistics', () => {
  it('latency percentiles are the upper bound of their bucket (within ~25%)', () => {
    const s = new ArmStats();
    for (let i = 1; i <= 1000; i++) s.record('ok', i / 10); // 0.1 … 100 ms
    const { p50Ms, p99Ms } = s.report();
    expect(p50Ms! / 50).toBeGreaterThanOrEqual(1);
    expect(p50Ms! / 50).toBeLessThan(1.28);
    expect(p99Ms! / 99).toBeGreaterThanOrEqual(1);
    expect(p99Ms! / 99).toBeLessThan(1.28);
    expect(new ArmStats().report().p99Ms).toBeNull();
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

import { describe, expect, it } from 'vitest';
import { BodyBudget, BodyHold } from './body-budget.ts';

describe('BodyBudget', () => {
  it.each([
    // [held before, asked, limit, taken]
    [0, 100, 100, true],
    [0, 101, 100, false],
    [60, 40, 100, true],
    [60, 41, 100, false],
    [100, 0, 100, true],
  ])('holding %i, taking %i of %i → %s', (before, asked, limit, taken) => {
    const budget = new BodyBudget(limit);
    expect(budget.take(before)).toBe(true);
    expect(budget.fits(asked)).toBe(taken);
    expect(budget.take(asked)).toBe(taken);
    expect(budget.held).toBe(taken ? before + asked : before);
  });

  it('gives back what a request held when it is released, once', () => {
    const budget = new BodyBudget(100);
    const a = new BodyHold(budget);
    const b = new BodyHold(budget);
    expect(a.take(30)).toBe(true);
    expect(a.take(30)).toBe(true);
    expect(b.take(50)).toBe(false);
    expect(b.take(40)).toBe(true);
    expect([a.bytes, b.bytes, budget.held]).toEqual([60, 40, 100]);
    a.release();
    a.release();
    expect(budget.held).toBe(40);
    expect(a.take(1)).toBe(false); // released holds take nothing more
    b.release();
    expect(budget.held).toBe(0);
  });
});

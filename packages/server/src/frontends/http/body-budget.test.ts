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

  it('holdAtLeast takes only what is missing: a reservation up front, then the cost of what arrives beyond it', () => {
    const budget = new BodyBudget(100);
    const hold = new BodyHold(budget);
    expect(hold.holdAtLeast(60)).toBe(true); // a Content-Length's whole cost
    expect(hold.holdAtLeast(40)).toBe(true); // bytes arriving within it take nothing more
    expect(budget.held).toBe(60);
    expect(hold.holdAtLeast(90)).toBe(true); // an inflated body past its compressed length
    expect(budget.held).toBe(90);
    expect(hold.holdAtLeast(101)).toBe(false);
    expect(budget.held).toBe(90);
    hold.release();
    expect(hold.holdAtLeast(10)).toBe(false);
    expect(budget.held).toBe(0);
  });
});

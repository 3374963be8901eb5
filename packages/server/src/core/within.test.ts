import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.ts';
import { sleep, valueWithin, within } from './within.ts';

/** Lets promise callbacks run. */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('within', () => {
  it.each([
    ['resolves before the deadline', 'resolve', 50, 100, true],
    ['rejects before the deadline (settled counts)', 'reject', 50, 100, true],
    ['still pending at the deadline', 'resolve', 150, 100, false],
    ['never settles', 'never', 0, 100, false],
  ] as const)('%s → %s', async (_name, outcome, settleAtMs, deadlineMs, expected) => {
    const clock = new ManualClock();
    let settle: (() => void) | undefined;
    const work = new Promise<void>((resolve, reject) => {
      if (outcome === 'never') return;
      settle = outcome === 'resolve' ? resolve : () => reject(new Error('failed'));
    });
    work.catch(() => undefined);
    const result = within(work, deadlineMs, clock);
    if (settle !== undefined) clock.setTimeout(settle, settleAtMs);
    // Time moves in two steps, so that a settlement's callbacks run before a later deadline fires.
    clock.advance(Math.min(settleAtMs, deadlineMs));
    await flush();
    clock.advance(Math.max(settleAtMs, deadlineMs) - Math.min(settleAtMs, deadlineMs));
    await flush();
    expect(await result).toBe(expected);
  });

  it('counts work that has already settled even with no time left, and leaves no timer behind', async () => {
    const clock = new ManualClock();
    const result = within(Promise.resolve(), 0, clock);
    await flush();
    expect(await result).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('sleep resolves only once its time has passed', async () => {
    const clock = new ManualClock();
    let woke = false;
    void sleep(100, clock).then(() => (woke = true));
    clock.advance(99);
    await flush();
    expect(woke).toBe(false);
    clock.advance(1);
    await flush();
    expect(woke).toBe(true);
  });
});

describe('valueWithin', () => {
  it('gives the value of work that settled in time, undefined for a rejection, and nothing once the time ran out', async () => {
    const clock = new ManualClock();
    expect(await valueWithin(Promise.resolve(7), 100, clock)).toEqual({ settled: true, value: 7 });
    expect(await valueWithin(Promise.reject(new Error('failed')), 100, clock)).toEqual({ settled: true, value: undefined });
    const late = valueWithin(new Promise<number>(() => undefined), 100, clock);
    clock.advance(100);
    await flush();
    expect(await late).toEqual({ settled: false });
    expect(clock.pendingTimers).toBe(0);
  });
});

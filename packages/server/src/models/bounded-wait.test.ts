import { SibylError } from '@sibyl/protocol';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.ts';
import { bounded, stopWaiting } from './bounded-wait.ts';

const late = (clock: ManualClock) => (waitedMs: number) => new SibylError('DEADLINE_EXCEEDED', `late after ${waitedMs} ms (now ${clock.now()})`);

describe('bounded', () => {
  it('gives the work when it comes first, and leaves no timer behind', async () => {
    const clock = new ManualClock();
    await expect(bounded(clock, { deadlineMs: 100 }, Promise.resolve(42), late(clock))).resolves.toBe(42);
    expect(clock.pendingTimers).toBe(0);
  });

  it('passes the work failure on', async () => {
    const clock = new ManualClock();
    await expect(bounded(clock, { deadlineMs: 100 }, Promise.reject(new Error('boom')), late(clock))).rejects.toThrow('boom');
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects with the caller error at the deadline; the work is not waited for', async () => {
    const clock = new ManualClock(1_000);
    const waiting = bounded(clock, { deadlineMs: 1_250 }, new Promise<never>(() => undefined), late(clock)).catch((err: unknown) => err);
    clock.advance(249);
    clock.advance(1);
    const err = (await waiting) as SibylError;
    expect([err.reason, err.message]).toEqual(['DEADLINE_EXCEEDED', 'late after 250 ms (now 1250)']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects REQUEST_CANCELLED when the signal aborts, or has already', async () => {
    const clock = new ManualClock();
    const abort = new AbortController();
    const waiting = bounded(clock, { signal: abort.signal }, new Promise<never>(() => undefined), late(clock)).catch((err: unknown) => err);
    abort.abort();
    expect(((await waiting) as SibylError).reason).toBe('REQUEST_CANCELLED');
    const again = await bounded(clock, { signal: abort.signal }, new Promise<never>(() => undefined), late(clock)).catch((err: unknown) => err);
    expect((again as SibylError).reason).toBe('REQUEST_CANCELLED');
  });
});

describe('stopWaiting', () => {
  it('says why the wait ended, first cause wins', async () => {
    const clock = new ManualClock();
    const abort = new AbortController();
    const stop = stopWaiting(clock, { deadlineMs: 10, signal: abort.signal });
    expect(stop.why).toBeUndefined();
    clock.advance(10);
    abort.abort();
    expect(await stop.ended).toBe('deadline');
    expect(stop.why).toBe('deadline');
    stop.dispose();
  });

  it('without deadline or signal never ends and sets no timer', () => {
    const clock = new ManualClock();
    const stop = stopWaiting(clock, {});
    expect(clock.pendingTimers).toBe(0);
    stop.dispose();
  });
});

import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.ts';
import { abandonAfter, type Abandonment } from './load-deadline.ts';

/** A promise the test settles by hand. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: Error) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('abandonAfter (the bound of one load)', () => {
  it('gives the value of work that finishes in time, and leaves no timer behind', async () => {
    const clock = new ManualClock();
    const late: string[] = [];
    const work = deferred<string>();
    const outcome = abandonAfter(clock, 1_000, () => work.promise, (v) => late.push(v));
    clock.advance(999);
    work.resolve('served');
    expect(await outcome).toEqual({ timedOut: false, value: 'served' });
    expect([clock.pendingTimers, late]).toEqual([0, []]);
  });

  it('rejects with the failure of work that fails in time', async () => {
    const clock = new ManualClock();
    const work = deferred<string>();
    const outcome = abandonAfter(clock, 1_000, () => work.promise, () => undefined);
    work.reject(new Error('corrupt'));
    await expect(outcome).rejects.toThrow('corrupt');
    expect(clock.pendingTimers).toBe(0);
  });

  it('resolves timedOut at the deadline of work that never finishes, and marks it abandoned', async () => {
    const clock = new ManualClock();
    let seen: Abandonment | undefined;
    const outcome = abandonAfter(clock, 1_000, (a) => ((seen = a), new Promise<string>(() => undefined)), () => undefined);
    expect(seen?.abandoned).toBe(false);
    clock.advance(1_000);
    expect(await outcome).toEqual({ timedOut: true });
    expect(seen?.abandoned).toBe(true);
  });

  it('hands a value that comes after the deadline to abandon, once', async () => {
    const clock = new ManualClock();
    const late: string[] = [];
    const work = deferred<string>();
    const outcome = abandonAfter(clock, 1_000, () => work.promise, (v) => late.push(v));
    clock.advance(1_000);
    expect(await outcome).toEqual({ timedOut: true });
    expect(late).toEqual([]);
    work.resolve('instances');
    await flush();
    expect(late).toEqual(['instances']);
  });

  it('drops a failure that comes after the deadline (nothing to free, no unhandled rejection)', async () => {
    const clock = new ManualClock();
    const late: string[] = [];
    const work = deferred<string>();
    const outcome = abandonAfter(clock, 1_000, () => work.promise, (v) => late.push(v));
    clock.advance(1_000);
    await outcome;
    work.reject(new Error('late failure'));
    await flush();
    expect(late).toEqual([]);
  });

  it('rejects when the work throws before it returns a promise', async () => {
    const clock = new ManualClock();
    const outcome = abandonAfter<string>(clock, 1_000, () => {
      throw new Error('sync');
    }, () => undefined);
    await expect(outcome).rejects.toThrow('sync');
  });
});

// Bounded waits: every await on a shutdown or close path has a deadline.
import type { Clock } from './clock.ts';

/**
 * Waits for `work` for at most `ms` milliseconds of `clock` time. Resolves true when `work`
 * settled in time (a rejection counts as settled: the caller asked to wait, not for a result),
 * false when the time ran out first; never rejects. `ms` ≤ 0 still lets work that has already
 * settled count. The timer is cancelled as soon as `work` settles.
 */
export function within(work: Promise<unknown>, ms: number, clock: Clock): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    let settled = false;
    const cancel = clock.setTimeout(() => {
      if (settled) return;
      settled = true;
      resolve(false);
    }, Math.max(0, ms));
    const done = (): void => {
      if (settled) return;
      settled = true;
      cancel();
      resolve(true);
    };
    work.then(done, done);
  });
}

/**
 * As within(), with the value: `{ settled: true, value }` when `work` settled in time (`value`
 * undefined when it rejected), `{ settled: false }` when the time ran out first; never rejects.
 */
export async function valueWithin<T>(work: Promise<T>, ms: number, clock: Clock): Promise<{ settled: true; value: T | undefined } | { settled: false }> {
  let value: T | undefined;
  const settled = await within(
    work.then((v) => {
      value = v;
    }),
    ms,
    clock,
  );
  return settled ? { settled, value } : { settled };
}

/** Resolves after `ms` milliseconds of `clock` time (at once for `ms` ≤ 0). */
export function sleep(ms: number, clock: Clock): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
}

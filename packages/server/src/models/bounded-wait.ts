// Every wait in the model manager is bounded: by a deadline (clock time, ms), by a cancellation,
// or both. `stopWaiting` gives the promise that settles when either comes; `bounded` races work
// against it and rejects with the SibylError the caller words (the work itself goes on).
import { SibylError } from '@sibyl/protocol';
import type { Cancellation } from '../core/cancellation.ts';
import type { CancelTimer, Clock } from '../core/clock.ts';

export interface WaitLimit {
  /** Clock time (ms) after which the caller stops waiting. */
  deadlineMs?: number;
  signal?: Cancellation;
}

export interface StopWaiting {
  /** Resolves with why the wait ended: its deadline passed, or it was cancelled. Never rejects. */
  readonly ended: Promise<'deadline' | 'cancelled'>;
  /** Why it ended, once it has. */
  readonly why: 'deadline' | 'cancelled' | undefined;
  /** Removes the timer and the listener. Call when the wait is over either way. */
  dispose(): void;
}

/** A wait's end under `limit` (never, when it has neither deadline nor signal). */
export function stopWaiting(clock: Clock, limit: WaitLimit): StopWaiting {
  let cancelTimer: CancelTimer | undefined;
  let onAbort: (() => void) | undefined;
  let why: 'deadline' | 'cancelled' | undefined;
  const ended = new Promise<'deadline' | 'cancelled'>((resolve) => {
    const end = (w: 'deadline' | 'cancelled'): void => {
      why ??= w;
      resolve(why);
    };
    if (limit.signal?.aborted === true) return end('cancelled');
    if (limit.deadlineMs !== undefined) cancelTimer = clock.setTimeout(() => end('deadline'), limit.deadlineMs - clock.now());
    if (limit.signal !== undefined) {
      onAbort = () => end('cancelled');
      limit.signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  return {
    ended,
    get why() {
      return why;
    },
    dispose() {
      cancelTimer?.();
      if (onAbort !== undefined) limit.signal!.removeEventListener('abort', onAbort);
    },
  };
}

/**
 * `work`, unless the limit comes first: then rejects with `onDeadline(waitedMs)` or a
 * REQUEST_CANCELLED error. The work is not stopped.
 */
export async function bounded<T>(clock: Clock, limit: WaitLimit, work: Promise<T>, onDeadline: (waitedMs: number) => SibylError): Promise<T> {
  const started = clock.now();
  const stop = stopWaiting(clock, limit);
  try {
    const outcome = await Promise.race([work.then((value) => ({ value })), stop.ended]);
    if (typeof outcome === 'object') return outcome.value;
    if (outcome === 'deadline') throw onDeadline(Math.round(clock.now() - started));
    throw new SibylError('REQUEST_CANCELLED', 'the caller went away while waiting');
  } finally {
    stop.dispose();
  }
}

// The bound of one load. A load cannot be interrupted: terminating a worker thread while
// onnxruntime builds its session aborts the whole process. So a load still running at its
// deadline is abandoned rather than stopped: the caller goes on at once, and whatever the load
// gives later is handed to `abandon` to be freed (a late failure has nothing to free).
import type { Clock } from '../core/clock.ts';

/** The work's value, or `timedOut` when its deadline came first (the work was abandoned). */
export type Bounded<T> = { timedOut: false; value: T } | { timedOut: true };

/** What an abandoned load can see of its abandonment, to skip its remaining steps. */
export interface Abandonment {
  readonly abandoned: boolean;
}

/**
 * Runs `work` for at most `timeoutMs` (clock time). A rejection before then rejects; at the
 * deadline it resolves `{ timedOut: true }` and marks the work abandoned; a value that comes
 * after goes to `abandon` (which must free it), a failure after is dropped.
 */
export function abandonAfter<T>(clock: Clock, timeoutMs: number, work: (abandonment: Abandonment) => Promise<T>, abandon: (late: T) => void): Promise<Bounded<T>> {
  const abandonment = { abandoned: false };
  let settled = false;
  return new Promise<Bounded<T>>((resolve, reject) => {
    const cancelTimer = clock.setTimeout(() => {
      if (settled) return;
      settled = true;
      abandonment.abandoned = true;
      resolve({ timedOut: true });
    }, timeoutMs);
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      cancelTimer();
      return true;
    };
    let running: Promise<T>;
    try {
      running = work(abandonment);
    } catch (err) {
      running = Promise.reject(err as Error);
    }
    running.then(
      (value) => (finish() ? resolve({ timedOut: false, value }) : abandon(value)),
      (err: unknown) => {
        if (finish()) reject(err as Error);
      },
    );
  });
}

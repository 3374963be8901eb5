// Time, injected: core code never calls Date.now(), performance.now() or setTimeout directly,
// so schedulers and policies are tested on a manual clock (testing/manual-clock.ts).

/** Cancels a timer made by Clock.setTimeout. Idempotent. */
export type CancelTimer = () => void;

export interface Clock {
  /** Monotonic milliseconds (fractional) since an arbitrary origin; only differences matter. */
  now(): number;
  /** Wall-clock milliseconds since the Unix epoch, for timestamps shown to people. */
  epochMs(): number;
  /** Calls `fn` once after `ms` milliseconds (fractional allowed) unless cancelled first. */
  setTimeout(fn: () => void, ms: number): CancelTimer;
}

/** The real clock. Timers are unref'd: a pending timer never keeps the process alive. */
export function createSystemClock(): Clock {
  return {
    now: () => performance.now(),
    epochMs: () => Date.now(),
    setTimeout(fn, ms) {
      const handle = setTimeout(fn, Math.max(0, ms));
      handle.unref();
      return () => clearTimeout(handle);
    },
  };
}

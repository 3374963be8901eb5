// Which instances are hung: the watchdog's decision, a pure function of a snapshot of the pool.
// An instance is hung when it holds executions and has made no progress (taken its first one,
// or finished one) for longer than the hang timeout. The pool takes a hung instance out of
// rotation and loads a replacement; it never interrupts the run (see InstancePool).

/** One instance as the watchdog sees it. */
export interface InstanceProgress {
  /** Executions handed to the instance and not yet finished (running plus waiting in its inbox). */
  outstanding: number;
  /** Clock time (ms) of its last progress: when it became busy, or when it last finished an execution. */
  progressAtMs: number;
}

export interface HangDecision {
  /** Indexes (into the snapshot) of the hung instances. */
  hung: number[];
  /** Clock time at which to decide again; +Infinity when no instance is busy (or the watchdog is off). */
  nextCheckAtMs: number;
}

/**
 * @param hangTimeoutMs longest time an instance may hold executions without finishing one;
 *   0 turns the watchdog off.
 */
export function decideHung(instances: readonly InstanceProgress[], nowMs: number, hangTimeoutMs: number): HangDecision {
  const hung: number[] = [];
  let nextCheckAtMs = Number.POSITIVE_INFINITY;
  if (hangTimeoutMs <= 0) return { hung, nextCheckAtMs };
  instances.forEach((instance, index) => {
    if (instance.outstanding <= 0) return;
    const dueAtMs = instance.progressAtMs + hangTimeoutMs;
    if (nowMs >= dueAtMs) hung.push(index);
    else if (dueAtMs < nextCheckAtMs) nextCheckAtMs = dueAtMs;
  });
  return { hung, nextCheckAtMs };
}

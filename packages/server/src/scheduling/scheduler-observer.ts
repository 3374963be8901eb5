// What a scheduler tells observers (metrics, tracing) about its executions. The interface lives
// here, with the layer that emits; implementations live in observability/ and are wired by the
// composition root, so the scheduler never imports them.

/** One queued request of an execution, as observers see it. */
export interface ExecutedMember {
  /** Clock time (ms) the request entered the queue. */
  readonly enqueuedAtMs: number;
  /** Rows the request carried. */
  readonly rows: number;
  /** What the submitter passed as SubmitOptions.trace (a span context, say), else undefined. */
  readonly trace: unknown;
}

/** One execution (batch) after it ended. Valid only during the call: copy what you keep. */
export interface ExecutedBatch {
  /** Rows of the whole batch. */
  readonly rows: number;
  /** Clock time (ms) the batch left the queue for an instance. */
  readonly startMs: number;
  /** Clock time (ms) its outputs were split (or its failure known). */
  readonly endMs: number;
  /** The requests of the batch, in batch order. */
  readonly members: readonly ExecutedMember[];
  /** True when the instance failed the execution (every member got the error). */
  readonly failed: boolean;
}

/**
 * Told about every execution of one scheduler, once it ended, on the event loop. Called on the
 * hot path: implementations do O(members) work, allocate little and never throw.
 */
export interface SchedulerObserver {
  executed(batch: ExecutedBatch): void;
  /** An instance of the version crashed, hung (see InstancePool), was replaced, or failed to be. Rare. */
  instanceEvent?(kind: InstanceEventKind): void;
}

export type InstanceEventKind = 'crashed' | 'hung' | 'replaced' | 'replace-failed';

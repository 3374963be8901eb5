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
  /** True when the instance failed the execution (its members were then isolated, see isolation.ts). */
  readonly failed: boolean;
  /**
   * Why the execution ran: undefined for a batch as it left the queue; `run_failed` for a run made
   * to find which request of a failed execution caused it (a half, or a lone retry);
   * `instance_crashed` for a request run again because the instance running its batch died;
   * `probe` for a request generated from the version's signature, run once when a request failed
   * alone before the version answered anything (its members: that request; `rows`: the probe's).
   * Queue times belong to the first execution only.
   */
  readonly isolation?: 'run_failed' | 'instance_crashed' | 'probe';
}

/**
 * How requests of a failed execution ended: `answered` by a run made again, `input_rejected`
 * (failed alone while the version answers others: 400 INPUT_REJECTED_BY_MODEL), or `failed`
 * (the version failed them too, or they ran out of time or were cancelled meanwhile).
 */
export type IsolationOutcome = 'answered' | 'input_rejected' | 'failed';

/**
 * Told about every execution of one scheduler, once it ended, on the event loop. Called on the
 * hot path: implementations do O(members) work, allocate little and never throw.
 */
export interface SchedulerObserver {
  executed(batch: ExecutedBatch): void;
  /** `requests` requests of a failed execution ended with `outcome`. */
  isolated?(outcome: IsolationOutcome, requests: number): void;
  /** An instance of the version crashed, hung (see InstancePool), was replaced, or failed to be. Rare. */
  instanceEvent?(kind: InstanceEventKind): void;
}

export type InstanceEventKind = 'crashed' | 'hung' | 'replaced' | 'replace-failed';

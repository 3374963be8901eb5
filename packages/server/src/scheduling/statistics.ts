// Per-version inference statistics, in the shape of Triton's statistics extension: cumulative
// counts and durations of successes, failures, queueing and the three compute phases, plus
// executions per batch size. Durations are kept in nanoseconds, as Triton reports them.

export interface Duration {
  count: number;
  ns: number;
}

export interface BatchSizeStatistics {
  batchSize: number;
  computeInput: Duration;
  computeInfer: Duration;
  computeOutput: Duration;
}

const zero = (): Duration => ({ count: 0, ns: 0 });
const add = (d: Duration, ms: number): void => {
  d.count++;
  d.ns += Math.round(ms * 1e6);
};

export class VersionStatistics {
  /** Rows inferred (a request of 8 rows counts 8), as Triton's inference_count. */
  inferenceCount = 0;
  /** Executions (batches) run. */
  executionCount = 0;
  /** Wall-clock ms since the epoch of the last inference; 0 before the first. */
  lastInferenceMs = 0;
  readonly success = zero();
  readonly fail = zero();
  readonly queue = zero();
  readonly computeInput = zero();
  readonly computeInfer = zero();
  readonly computeOutput = zero();
  /** Answers from the response cache, and lookups that found none (with the lookup's time). */
  readonly cacheHit = zero();
  readonly cacheMiss = zero();
  private readonly byBatchSize = new Map<number, BatchSizeStatistics>();

  /** A request finished: `totalMs` from its arrival at the scheduler to its answer. */
  recordRequest(ok: boolean, totalMs: number): void {
    add(ok ? this.success : this.fail, totalMs);
  }

  recordCacheLookup(hit: boolean, lookupMs: number): void {
    add(hit ? this.cacheHit : this.cacheMiss, lookupMs);
  }

  recordQueued(queueMs: number): void {
    add(this.queue, queueMs);
  }

  /** One execution of `rows` rows for `requests` requests, with its phases in ms. */
  recordExecution(rows: number, requests: number, phases: { inputMs: number; inferMs: number; outputMs: number }, epochMs: number): void {
    this.executionCount++;
    this.inferenceCount += rows;
    this.lastInferenceMs = epochMs;
    // Triton counts compute phases once per request in inference_stats and once per execution
    // in batch_stats.
    for (let i = 0; i < requests; i++) {
      add(this.computeInput, phases.inputMs / requests);
      add(this.computeInfer, phases.inferMs / requests);
      add(this.computeOutput, phases.outputMs / requests);
    }
    let batch = this.byBatchSize.get(rows);
    if (batch === undefined) {
      batch = { batchSize: rows, computeInput: zero(), computeInfer: zero(), computeOutput: zero() };
      this.byBatchSize.set(rows, batch);
    }
    add(batch.computeInput, phases.inputMs);
    add(batch.computeInfer, phases.inferMs);
    add(batch.computeOutput, phases.outputMs);
  }

  /** Executions per batch size, ascending. */
  batchStatistics(): BatchSizeStatistics[] {
    return [...this.byBatchSize.values()].sort((a, b) => a.batchSize - b.batchSize);
  }
}

// What an arm of an endpoint did: requests, server errors, latency percentiles and outcome
// feedback, cumulatively (for the endpoint report) and per canary stage (for its analysis).
import type { ArmWindow } from './policies/canary.ts';

/** Latency buckets: 20 per decade from 0.01 ms to 100 s (upper edges), so percentiles are within ~12%. */
const BUCKETS_PER_DECADE = 20;
const MIN_MS = 0.01;
const BUCKET_COUNT = 7 * BUCKETS_PER_DECADE + 1;

function bucketOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  return Math.min(BUCKET_COUNT - 1, Math.ceil(Math.log10(ms / MIN_MS) * BUCKETS_PER_DECADE));
}

const upperEdge = (bucket: number): number => MIN_MS * 10 ** (bucket / BUCKETS_PER_DECADE);

export class LatencyHistogram {
  private readonly counts = new Uint32Array(BUCKET_COUNT);
  count = 0;

  record(ms: number): void {
    this.counts[bucketOf(ms)]!++;
    this.count++;
  }

  /** The q-quantile (0..1) as the upper edge of its bucket; undefined when empty. */
  quantile(q: number): number | undefined {
    if (this.count === 0) return undefined;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let b = 0; b < BUCKET_COUNT; b++) {
      seen += this.counts[b]!;
      if (seen >= rank) return upperEdge(b);
    }
    return upperEdge(BUCKET_COUNT - 1);
  }
}

export interface ArmReport {
  requests: number;
  /** Server errors: the target's fault (INTERNAL, UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED). */
  errors: number;
  /** Requests the caller got wrong (INVALID_ARGUMENT, NOT_FOUND): not held against the arm. */
  clientErrors: number;
  p50Ms: number | null;
  p99Ms: number | null;
  feedback: { outcomes: number; successes: number; rate: number | null };
}

export class ArmStats {
  requests = 0;
  errors = 0;
  clientErrors = 0;
  outcomes = 0;
  successes = 0;
  readonly latency = new LatencyHistogram();

  /** One request's outcome; `latencyMs` counts only answered ones (errors are not latencies). */
  record(outcome: 'ok' | 'server-error' | 'client-error', latencyMs: number): void {
    this.requests++;
    if (outcome === 'server-error') this.errors++;
    else if (outcome === 'client-error') this.clientErrors++;
    else this.latency.record(latencyMs);
  }

  feedback(success: boolean): void {
    this.outcomes++;
    if (success) this.successes++;
  }

  /** For the canary analysis: client errors are neither requests nor errors of the arm. */
  window(): ArmWindow {
    return { requests: this.requests - this.clientErrors, errors: this.errors, p99Ms: this.latency.quantile(0.99) };
  }

  report(): ArmReport {
    return {
      requests: this.requests,
      errors: this.errors,
      clientErrors: this.clientErrors,
      p50Ms: this.latency.quantile(0.5) ?? null,
      p99Ms: this.latency.quantile(0.99) ?? null,
      feedback: { outcomes: this.outcomes, successes: this.successes, rate: this.outcomes === 0 ? null : this.successes / this.outcomes },
    };
  }
}

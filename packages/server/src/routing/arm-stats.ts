// What an arm of an endpoint did: requests, server errors, latency percentiles and outcome
// feedback, cumulatively (for the endpoint report) and per canary stage (for its analysis).
import { BucketHistogram } from '../core/bucket-histogram.ts';
import { DURATION_BUCKETS_SECONDS } from '../core/duration-buckets.ts';
import type { ArmWindow } from './policies/canary.ts';

export interface ArmReport {
  requests: number;
  /**
   * Server errors: the target's fault, as isServerError (target-call.ts) derives it from the error
   * table — server faults, and an unknown model, version or label (the endpoint named it).
   */
  errors: number;
  /** Requests the caller got wrong (every other error, e.g. INVALID_ARGUMENT): not held against the arm. */
  clientErrors: number;
  p50Ms: number | null;
  p99Ms: number | null;
  feedback: { outcomes: number; successes: number; rate: number | null };
}

const msOf = (seconds: number | undefined): number | undefined => (seconds === undefined ? undefined : seconds * 1000);

export class ArmStats {
  requests = 0;
  errors = 0;
  clientErrors = 0;
  outcomes = 0;
  successes = 0;
  /** Latency of answered requests, in seconds, in the buckets the metrics export (within ~25%). */
  readonly latency = new BucketHistogram(DURATION_BUCKETS_SECONDS);

  /** One request's outcome; `latencyMs` counts only answered ones (errors are not latencies). */
  record(outcome: 'ok' | 'server-error' | 'client-error', latencyMs: number): void {
    this.requests++;
    if (outcome === 'server-error') this.errors++;
    else if (outcome === 'client-error') this.clientErrors++;
    else this.latency.observe(latencyMs / 1000);
  }

  feedback(success: boolean): void {
    this.outcomes++;
    if (success) this.successes++;
  }

  /** For the canary analysis: client errors are neither requests nor errors of the arm. */
  window(): ArmWindow {
    return { requests: this.requests - this.clientErrors, errors: this.errors, p99Ms: msOf(this.latency.quantile(0.99)) };
  }

  report(): ArmReport {
    return {
      requests: this.requests,
      errors: this.errors,
      clientErrors: this.clientErrors,
      p50Ms: msOf(this.latency.quantile(0.5)) ?? null,
      p99Ms: msOf(this.latency.quantile(0.99)) ?? null,
      feedback: { outcomes: this.outcomes, successes: this.successes, rate: this.outcomes === 0 ? null : this.successes / this.outcomes },
    };
  }
}

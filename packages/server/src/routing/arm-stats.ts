// What an arm of an endpoint did: requests, server errors, latency percentiles and outcome
// feedback, cumulatively (for the endpoint report) and per canary stage (for its analysis).
import { BucketHistogram } from '../core/bucket-histogram.ts';
import { DURATION_BUCKETS_SECONDS } from '../core/duration-buckets.ts';
import type { ArmWindow } from './policies/canary.ts';

export interface ArmReport {
  requests: number;
  /**
   * Server errors: the target's fault, as isServerError (target.ts) derives it from the error
   * table — server faults, and an unknown model, version or label (the endpoint named it).
   */
  errors: number;
  /** Requests the caller got wrong (every other error, e.g. INVALID_ARGUMENT): not held against the arm. */
  clientErrors: number;
  p50Ms: number | null;
  p99Ms: number | null;
  feedback: { outcomes: number; successes: number; rate: number | null };
}

/** What an arm did so far: a copy, read by metrics, the report and the CLI. */
export interface ArmSnapshot {
  readonly requests: number;
  readonly errors: number;
  readonly clientErrors: number;
  readonly outcomes: number;
  readonly successes: number;
  /** Latency of answered requests, in seconds (a copy of the arm's histogram). */
  readonly latency: BucketHistogram;
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

  snapshot(): ArmSnapshot {
    const latency = new BucketHistogram(this.latency.bounds);
    latency.counts.set(this.latency.counts);
    latency.count = this.latency.count;
    latency.sum = this.latency.sum;
    return { requests: this.requests, errors: this.errors, clientErrors: this.clientErrors, outcomes: this.outcomes, successes: this.successes, latency };
  }

  report(): ArmReport {
    return armReport(this.snapshot());
  }
}

/** An arm's figures in the endpoint report. */
export function armReport(s: ArmSnapshot): ArmReport {
  return {
    requests: s.requests,
    errors: s.errors,
    clientErrors: s.clientErrors,
    p50Ms: msOf(s.latency.quantile(0.5)) ?? null,
    p99Ms: msOf(s.latency.quantile(0.99)) ?? null,
    feedback: { outcomes: s.outcomes, successes: s.successes, rate: s.outcomes === 0 ? null : s.successes / s.outcomes },
  };
}

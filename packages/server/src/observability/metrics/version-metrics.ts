// The hot-path accumulators of one model version: plain numbers and bucket arrays, updated by the
// inference and scheduler observers and read by the exporter at scrape time.
import type { ErrorReason } from '@sibyl/protocol';
import type { ExecutedBatch, InstanceEventKind, IsolationOutcome, SchedulerObserver } from '../../scheduling/scheduler-observer.ts';
import { BATCH_SIZE_BUCKETS, DURATION_BUCKETS_SECONDS } from './catalogue.ts';
import { BucketHistogram } from '../../core/bucket-histogram.ts';

export class VersionMetrics implements SchedulerObserver {
  succeeded = 0;
  /** Failed requests by reason. */
  readonly failed = new Map<ErrorReason, number>();
  readonly requestSeconds = new BucketHistogram(DURATION_BUCKETS_SECONDS);
  readonly queueSeconds = new BucketHistogram(DURATION_BUCKETS_SECONDS);
  readonly computeSeconds = new BucketHistogram(DURATION_BUCKETS_SECONDS);
  readonly batchRows = new BucketHistogram(BATCH_SIZE_BUCKETS);
  /** Executions run again after a failure, by cause. */
  readonly isolationExecutions = { run_failed: 0, instance_crashed: 0, probe: 0 };
  /** Requests of failed executions, by how they ended. */
  readonly isolationRequests: Record<IsolationOutcome, number> = { answered: 0, input_rejected: 0, failed: 0 };
  /** Instance crashes, hangs and replacements, by kind. */
  readonly instanceEvents = new Map<InstanceEventKind, number>();

  /** `version` is '' for requests that named no known version. */
  constructor(
    readonly model: string,
    readonly version: string,
  ) {}

  recordSuccess(totalMs: number): void {
    this.succeeded++;
    this.requestSeconds.observe(totalMs / 1000);
  }

  recordFailure(reason: ErrorReason): void {
    this.failed.set(reason, (this.failed.get(reason) ?? 0) + 1);
  }

  instanceEvent(kind: InstanceEventKind): void {
    this.instanceEvents.set(kind, (this.instanceEvents.get(kind) ?? 0) + 1);
  }

  executed(batch: ExecutedBatch): void {
    this.batchRows.observe(batch.rows);
    if (batch.isolation !== undefined) {
      // Its requests' queue and compute times were observed with their first execution.
      this.isolationExecutions[batch.isolation]++;
      return;
    }
    const computeSeconds = (batch.endMs - batch.startMs) / 1000;
    for (const member of batch.members) {
      this.queueSeconds.observe((batch.startMs - member.enqueuedAtMs) / 1000);
      this.computeSeconds.observe(computeSeconds);
    }
  }

  isolated(outcome: IsolationOutcome, requests: number): void {
    this.isolationRequests[outcome] += requests;
  }
}

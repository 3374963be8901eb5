// The hot-path accumulators of one model version: plain numbers and bucket arrays, updated by the
// inference and scheduler observers and read by the exporter at scrape time.
import type { ErrorReason } from '@sibyl/protocol';
import type { ExecutedBatch, InstanceEventKind, SchedulerObserver } from '../../scheduling/scheduler-observer.ts';
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
    const computeSeconds = (batch.endMs - batch.startMs) / 1000;
    for (const member of batch.members) {
      this.queueSeconds.observe((batch.startMs - member.enqueuedAtMs) / 1000);
      this.computeSeconds.observe(computeSeconds);
    }
  }
}

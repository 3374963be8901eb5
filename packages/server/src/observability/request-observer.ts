// The one InferenceObserver of the server: fans each request out to the parts of observability
// that are switched on (metrics, prediction log, drift, tracing), each called directly, with no
// list to walk and nothing allocated for a part that is off.
import type { InferRequest } from '@sibyl/protocol';
import type { ServedVersion } from '../models/served-version.ts';
import type { RequestContext } from '../core/request-context.ts';
import type { InferOutcome, InferenceObserver } from '../routing/inference-observer.ts';
import type { ExecutedBatch, IsolationOutcome, SchedulerObserver } from '../scheduling/scheduler-observer.ts';
import type { DriftMonitor } from './drift/drift-monitor.ts';
import type { SibylMetrics } from './metrics/metrics.ts';
import type { PredictionLogger } from './prediction-log/prediction-logger.ts';
import type { Tracing } from './tracing/tracing.ts';

export interface ObservabilityParts {
  metrics?: SibylMetrics;
  predictions?: PredictionLogger;
  drift?: DriftMonitor;
  tracing?: Tracing;
}

export class RequestObserver implements InferenceObserver {
  constructor(private readonly parts: ObservabilityParts) {}

  started(served: ServedVersion, request: InferRequest, _context: RequestContext): unknown {
    this.parts.drift?.observeInputs(served, request);
    return this.parts.predictions?.sample(served, request);
  }

  finished(outcome: InferOutcome): void {
    this.parts.metrics?.observe(outcome);
    this.parts.drift?.observeOutputs(outcome);
    if (outcome.token !== undefined) this.parts.predictions?.record(outcome);
  }

  /** The observer of one version's scheduler: metrics and tracing, whichever are on. */
  schedulerObserver(model: string, version: number): SchedulerObserver | undefined {
    const metrics = this.parts.metrics?.version(model, String(version));
    const tracing = this.parts.tracing?.schedulerObserver(model, version);
    if (metrics === undefined || tracing === undefined) return metrics ?? tracing;
    return {
      executed(batch: ExecutedBatch): void {
        metrics.executed(batch);
        tracing.executed(batch);
      },
      isolated(outcome: IsolationOutcome, requests: number): void {
        metrics.isolated(outcome, requests);
      },
      instanceEvent: (kind) => metrics.instanceEvent(kind),
    };
  }
}

// What the frontends see of the serving core: the one inference entry, and the deliberate, narrow
// views of model control, endpoint control, batch jobs, stored predictions, observability and
// health that the management routes need. Frontends import this module (and the others of
// serving/) and nothing else of the server: lint enforces it. SibylCore implements the interface;
// the composition root keeps the wider class.
import type { InferRequest, InferResponse, SibylError } from '@sibyl/protocol';
import type { BatchJobManager } from '../batch/job-manager.ts';
import type { BatchScheduler } from '../batch/schedules.ts';
import type { Clock } from '../core/clock.ts';
import type { InferenceLimits } from '../core/inference-limits.ts';
import type { EntryKind, RequestContext } from '../core/request-context.ts';
import type { ModelManager, VersionSelector } from '../models/model-manager.ts';
import type { DriftMonitor } from '../observability/drift/drift-monitor.ts';
import type { SibylMetrics } from '../observability/metrics/metrics.ts';
import type { PredictionLogger } from '../observability/prediction-log/prediction-logger.ts';
import type { Tracing } from '../observability/tracing/tracing.ts';
import type { Endpoints } from '../routing/endpoints.ts';
import type { PredictionLookup } from '../routing/stored-prediction.ts';

/** Model control and model status: what the V2, TF Serving, repository and gRPC routes call. */
export type ModelsApi = Pick<ModelManager, 'acquire' | 'control' | 'index' | 'readiness' | 'resolve' | 'servedVersions' | 'status' | 'list' | 'selectedVersion'>;

/** Endpoint control: list, read, set and delete endpoints (each Endpoint then takes its own actions). */
export type EndpointsApi = Pick<Endpoints, 'list' | 'require' | 'sourceOf' | 'set' | 'delete'>;

/** Batch jobs and schedules run inside the server. */
export interface BatchApi {
  readonly jobs: BatchJobManager;
  readonly schedules: BatchScheduler;
}

/** The parts of observability that are on (each undefined when off). */
export interface ObservabilityApi {
  readonly metrics?: SibylMetrics;
  readonly predictions?: PredictionLogger;
  readonly drift?: DriftMonitor;
  readonly tracing?: Tracing;
}

/** What a frontend knows when it makes a request's context (the rest has defaults). */
export interface RequestContextInit extends Omit<RequestContext, 'requestId' | 'arrivalMs' | 'entry'> {
  /** Default: a generated id. */
  readonly requestId?: string;
  /** Clock time (the core's clock) the request arrived; default now. */
  readonly arrivalMs?: number;
}

export interface ServingApi {
  /** The core's clock: request arrival times are read from it. */
  readonly clock: Clock;
  /**
   * The one inference entry: `name` is an endpoint (its traffic policy answers) or a model (the
   * version or label the selector addresses). Ownership of the request's tensors passes to the
   * core; the context travels with the request to every target, log, metric and span.
   * @throws SibylError (see the error table of @sibyl/protocol).
   */
  infer(name: string, selector: VersionSelector, request: InferRequest, context: RequestContext): Promise<InferResponse>;
  /** A request the entry could not decode: observers count it like any failed request. */
  rejected(name: string, selector: VersionSelector, error: SibylError, context: RequestContext): void;
  /** Whether requests for `name` may carry no inputs (a hybrid endpoint answers by key). */
  answersByKey(name: string, selector: VersionSelector): boolean;
  /** The model and selector whose metadata and readiness `name` stands for. */
  targetOf(name: string, selector: VersionSelector): { model: string; selector: VersionSelector };
  /** The hard limits on requests and answers (limits.*): decoders apply the element limits before allocating. */
  readonly limits: InferenceLimits;
  /** A request context for a request arriving now through `entry` (the one each entry makes per request). */
  newContext(entry: EntryKind, init?: RequestContextInit): RequestContext;
  /** Requests between infer() and their answer. */
  readonly pending: number;
  readonly models: ModelsApi;
  readonly endpoints: EndpointsApi;
  /** Undefined when the core runs no batch jobs (`sibyl batch run`, an embedding without a prediction store). */
  readonly batch: BatchApi | undefined;
  /** Stored predictions (by key), when the core has a prediction store. */
  readonly storedPredictions: PredictionLookup | undefined;
  readonly observability: ObservabilityApi;
  /** Supporting components that are degraded now (they do not stop inference). */
  degradedComponents(): readonly { component: string; reason?: string; sinceMs: number }[];
  /** Told when an online inference request arrives, so batch jobs in the server give way. */
  readonly onlineActivity: { touch(nowMs: number): void };
}

// The one path every frontend (and, later, batch jobs and streams) takes to a prediction:
// resolve the version, validate the request against its signature, queue it, shape the answer.
// Endpoints, traffic policies and caching will sit here (DESIGN.md, routing).
import { SibylError, type InferRequest, type InferResponse, type ParameterValue, type Tensor } from '@sibyl/protocol';
import type { Cancellation } from '../core/cancellation.ts';
import type { Clock } from '../core/clock.ts';
import { checkResponseBytes, type InferenceLimits } from '../core/inference-limits.ts';
import type { RequestContext } from '../core/request-context.ts';
import { batchKeyOf } from '../scheduling/scheduler.ts';
import { checkClassification, classify } from './classification.ts';
import type { ModelManager, VersionSelector } from '../models/model-manager.ts';
import type { ServedVersion } from '../models/served-version.ts';
import { validateInferRequest } from '../models/validate-request.ts';
import { responseCacheKey, type ResponseCache } from './response-cache.ts';
import type { InferenceObserver } from './inference-observer.ts';

export class InferenceService {
  private inFlight = 0;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly models: ModelManager,
    private readonly options: {
      clock: Clock;
      /** Deadline of requests that set no `timeout` parameter, in ms; 0: none. */
      requestTimeoutMs: number;
      /** Where models that opt in keep their answers; undefined: no response cache. */
      cache?: ResponseCache;
      /** TTL of cached answers whose model sets none; default 60 s. */
      cacheTtlMs?: number;
      /** Told about every request (metrics, prediction log, drift, tracing). */
      observer?: InferenceObserver;
      /** limits.maxResponseBytes and the rest; undefined: answers are not checked (tests). */
      limits?: InferenceLimits;
    },
  ) {}

  /** Requests between infer() and its answer. */
  get pending(): number {
    return this.inFlight;
  }

  /**
   * Runs one inference request on the version the selector addresses (by number or label; the
   * default route without either), loading it on demand within the request's deadline when it
   * is not resident. Ownership of the request's tensor buffers passes to the service. The
   * context's signal cancels it; its deadline (with the request's `timeout` parameter and the
   * server's default, whichever ends first) bounds it; observers see it and count the request's
   * time from its arrivalMs.
   * @throws SibylError: NOT_FOUND, INVALID_ARGUMENT (the request does not fit the model),
   *   UNAVAILABLE (not ready), DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, INTERNAL (the runtime failed).
   */
  infer(model: string, selector: VersionSelector, request: InferRequest, context: RequestContext): Promise<InferResponse> {
    const observer = this.options.observer;
    if (observer === undefined) return this.run(model, selector, request, context, undefined);
    return this.observe(observer, model, selector, request, context);
  }

  /**
   * A frontend could not turn a request for `model` into an InferRequest (an undecodable body):
   * observers count it like any failed request.
   */
  rejected(model: string, selector: VersionSelector, error: SibylError, context: RequestContext): void {
    const observer = this.options.observer;
    if (observer === undefined) return;
    let served: ServedVersion | undefined;
    try {
      served = this.models.resolve(model, selector);
    } catch {
      served = undefined;
    }
    observer.finished({ model, served, request: undefined, response: undefined, error, totalMs: this.options.clock.now() - context.arrivalMs, context, token: undefined });
  }

  /** infer() with an observer: told once when the request is queued and once when it ends. */
  private async observe(observer: InferenceObserver, model: string, selector: VersionSelector, request: InferRequest, context: RequestContext): Promise<InferResponse> {
    const watch: Watch = { observer, served: undefined, started: false, token: undefined };
    const finish = (response: InferResponse | undefined, error: SibylError | undefined): void => {
      const totalMs = this.options.clock.now() - context.arrivalMs;
      observer.finished({ model, served: watch.served, request, response, error, totalMs, context, token: watch.token });
    };
    let response: InferResponse;
    try {
      response = await this.run(model, selector, request, context, watch);
    } catch (err) {
      finish(undefined, err instanceof SibylError ? err : new SibylError('INTERNAL_ERROR', (err as Error).message, { cause: err }));
      throw err;
    }
    finish(response, undefined);
    return response;
  }

  private async run(model: string, selector: VersionSelector, request: InferRequest, context: RequestContext, watch: Watch | undefined): Promise<InferResponse> {
    this.inFlight++;
    const signal: Cancellation | undefined = context.signal;
    try {
      const timeoutUs = integerParameter(request.parameters?.timeout, 'timeout', 'microseconds');
      const priority = integerParameter(request.parameters?.priority, 'priority', 'a priority level (1 is highest, 0 the default)');
      const timeoutMs = timeoutUs !== undefined && timeoutUs > 0 ? timeoutUs / 1000 : this.options.requestTimeoutMs;
      const ownDeadlineMs = timeoutMs > 0 ? this.options.clock.now() + timeoutMs : undefined;
      const deadlineMs = context.deadlineMs === undefined ? ownDeadlineMs : Math.min(context.deadlineMs, ownDeadlineMs ?? Infinity);
      const target = this.models.acquire(model, selector, { deadlineMs, signal });
      let served = target instanceof Promise ? await target : target;
      // A version loaded on demand may have begun to drain while this request waited for it (its
      // room taken by another on-demand load): route once more. Between here and execute() nothing
      // yields, so a version admitting now admits the request.
      if (!served.admitting) {
        const again = this.models.acquire(model, selector, { deadlineMs, signal });
        served = again instanceof Promise ? await again : again;
      }
      if (watch !== undefined) watch.served = served;
      const { outputNames, batchSize } = validateInferRequest(request, served.signature, model);
      // Classification parameters are checked before the model runs, never after.
      let classifications: Map<string, number> | undefined;
      for (const requested of request.outputs ?? []) {
        const k = requested.parameters?.classification;
        if (k === undefined) continue;
        classifications ??= new Map();
        classifications.set(requested.name, checkClassification(served.signature.outputs.find((o) => o.name === requested.name)!, k));
      }
      if (watch !== undefined) {
        // Once per request, before execute() takes ownership of the input buffers.
        if (!watch.started) watch.token = watch.observer.started(served, request, context);
        watch.started = true;
      }
      // The response cache (models that opt in): the key is taken before execute() hands the
      // input buffers to the instance. A version that began to drain during the lookup is routed
      // again.
      let cacheKey: string | undefined;
      const cache = this.options.cache;
      if (cache !== undefined && served.cache !== undefined) {
        cacheKey = responseCacheKey(served.name, served.version, served.cache.generation, request.inputs, outputNames.map((name) => ({ name, classification: classifications?.get(name) })));
        const started = this.options.clock.now();
        const hit = await cache.get(cacheKey);
        served.statistics.recordCacheLookup(hit !== undefined, this.options.clock.now() - started);
        if (hit !== undefined) return this.answer(served, request, hit, 'hit');
        if (!served.admitting) return await this.run(model, selector, request, context, watch);
      }
      const outputs = await served.execute(
        { inputs: request.inputs, outputNames, rows: served.signature.maxBatchSize > 0 ? batchSize : 1, batchKey: batchKeyOf(request.inputs, outputNames) },
        {
          signal,
          deadlineMs,
          // Triton's levels: 1 is the highest; 0 (or none) is the default, served after explicit levels.
          priority: priority === undefined || priority === 0 ? Number.MAX_SAFE_INTEGER : priority,
          trace: context.trace,
        },
      );
      const batched = served.signature.maxBatchSize > 0;
      const shaped =
        classifications === undefined
          ? outputs
          : outputs.map((o) => {
              const k = classifications.get(o.name);
              return k === undefined ? o : classify(o, k, batched);
            });
      if (cacheKey !== undefined) void cache!.set(cacheKey, shaped, served.cache!.ttlMs ?? this.options.cacheTtlMs ?? 60_000);
      return this.answer(served, request, shaped, cacheKey === undefined ? undefined : 'miss');
    } finally {
      if (--this.inFlight === 0) for (const fn of this.idleWaiters.splice(0)) fn();
    }
  }

  /**
   * The answer of a version. Every answer a model computes (endpoint targets, cascade stages and
   * fallback models included) is built here, so this is where its size is checked — before any
   * frontend encodes it, and counted by the observers as the failure it is.
   * @throws SibylError RESPONSE_TOO_LARGE.
   */
  private answer(served: ServedVersion, request: InferRequest, outputs: Tensor[], cache: 'hit' | 'miss' | undefined): InferResponse {
    if (this.options.limits !== undefined) checkResponseBytes(served.name, outputs, this.options.limits);
    const response: InferResponse = { model_name: served.name, model_version: String(served.version), outputs };
    if (request.id !== undefined) response.id = request.id;
    if (cache !== undefined) response.parameters = { sibyl_cache: cache };
    return response;
  }

  /** Resolves when no request is in flight. */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

/** The observer of one request, and what it learnt on the way. */
interface Watch {
  observer: InferenceObserver;
  served: ServedVersion | undefined;
  /** Whether started() was called (a request routed twice is still one request). */
  started: boolean;
  token: unknown;
}

/** A non-negative integer request parameter, or undefined when absent. @throws PARAMETER_INVALID. */
function integerParameter(value: ParameterValue | undefined, name: string, meaning: string): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'bigint' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw new SibylError('PARAMETER_INVALID', `parameter '${name}' is ${JSON.stringify(typeof value === 'bigint' ? String(value) : value)}; expected a non-negative integer (${meaning})`);
  }
  return n;
}

// The serving core: the one door into serving. Built once by createSibylCore() from the
// configuration and the adapters (runtime, clock, randomness, stores, cache, log, observability
// hooks), it owns the models, the inference service, the endpoints and the router, and the batch
// jobs run inside the server. Every entry — the HTTP and gRPC frontends, `sibyl batch run`, an
// embedding application — builds one RequestContext per request and calls infer(). Listeners and
// process concerns (ports, signals, shutdown choreography) stay with whoever embeds the core
// (server.ts, the CLI, an application).
import { randomUUID } from 'node:crypto';
import { checkName, nameError, type SibylError, type InferRequest, type InferResponse } from '@sibyl/protocol';
import type { Logger } from 'pino';
import { BatchJobManager } from '../batch/job-manager.ts';
import { BatchScheduler } from '../batch/schedules.ts';
import { OnlineActivity, serverJobRunner } from '../batch/server-job-runner.ts';
import { compileConfiguredEndpoints } from '../config/endpoint-config.ts';
import type { ServerConfig } from '../config/server-config.ts';
import { createSystemClock, type Clock } from '../core/clock.ts';
import { ComponentHealth } from '../core/component-health.ts';
import { checkInferRequest, type InferenceLimits } from '../core/inference-limits.ts';
import { readMachineInfo } from '../core/machine.ts';
import { seededRandom } from '../core/random.ts';
import type { EntryKind, RequestContext } from '../core/request-context.ts';
import { ModelManager, type VersionSelector } from '../models/model-manager.ts';
import { createObservability, type Observability } from '../observability/observability.ts';
import { Endpoints } from '../routing/endpoints.ts';
import { InferenceService } from '../routing/inference-service.ts';
import type { ResponseCache } from '../routing/response-cache.ts';
import { Router } from '../routing/router.ts';
import { FilesystemModelStore } from '../repository/filesystem-model-store.ts';
import { RateLimits, type RateLimitRefusal } from '../security/rate-limits.ts';
import { OnnxRuntime } from '../runtimes/onnx/onnx-runtime.ts';
import type { PredictionStore } from '../batch/prediction-store.ts';
import type { StateStore } from '../state/state-store.ts';
import { openCoreStores, packageVersion, responseCacheFor, jobConnectionsOf, jobSandboxOf, jobStoreOf, rejectsDirOf, sqliteFileOf, type SibylCoreAdapters } from './core-adapters.ts';
import type { BatchApi, ObservabilityApi, RequestContextInit, ServingApi } from './serving-api.ts';

export type { SibylCoreAdapters } from './core-adapters.ts';

/**
 * Builds the serving core: opens the state and prediction stores the configuration names (unless
 * given), then wires models, observability, the response cache, inference, endpoints, the router
 * and the batch job manager. Nothing is loaded yet: call start().
 */
export async function createSibylCore(config: ServerConfig, adapters: SibylCoreAdapters): Promise<SibylCore> {
  const clock = adapters.clock ?? createSystemClock();
  const health = new ComponentHealth(clock);
  const stores = await openCoreStores(config, adapters, clock, health);
  return new SibylCore(config, adapters, clock, health, stores);
}

export class SibylCore implements ServingApi {
  readonly clock: Clock;
  readonly log: Logger;
  readonly config: ServerConfig;
  readonly limits: InferenceLimits;
  /** Version of the server package (GET /v2, metrics, traces). */
  readonly serverVersion: string;
  /**
   * The supporting components' health (state store, prediction store, prediction log, response
   * cache): degraded while they fail, shown by /v2/health/ready and sibyl_component_degraded.
   */
  readonly health: ComponentHealth;
  readonly stateStore: StateStore;
  /** Where batch jobs write predictions and hybrid endpoints read them; undefined when the core has none. */
  readonly predictionStore: PredictionStore | undefined;
  readonly models: ModelManager;
  /** Metrics, prediction log, drift and tracing (the parts that are on); undefined when the core is not observed. */
  readonly observed: Observability | undefined;
  readonly responseCache: ResponseCache | undefined;
  /** The rate limits every request through infer() passes; undefined when none are set. */
  readonly rateLimits: RateLimits | undefined;
  readonly inference: InferenceService;
  readonly endpoints: Endpoints;
  readonly router: Router;
  /** When online inference requests last arrived: jobs in the server slow down while they do. */
  readonly onlineActivity = new OnlineActivity();
  /** Batch jobs (API, schedules), when the core has a prediction store. */
  readonly batch: BatchApi | undefined;

  constructor(config: ServerConfig, adapters: SibylCoreAdapters, clock: Clock, health: ComponentHealth, stores: { stateStore: StateStore; predictionStore: PredictionStore | undefined }) {
    this.config = config;
    this.limits = config.limits;
    this.clock = clock;
    this.log = adapters.log;
    this.health = health;
    this.stateStore = stores.stateStore;
    this.predictionStore = stores.predictionStore;
    const log = adapters.log;
    const serverVersion = adapters.serverVersion ?? packageVersion();
    this.serverVersion = serverVersion;
    this.models = new ModelManager({
      repository: adapters.modelStore ?? new FilesystemModelStore(config.modelRepository),
      runtime: adapters.runtime ?? new OnnxRuntime(),
      clock,
      machine: adapters.machine ?? readMachineInfo(),
      log,
      store: this.stateStore,
      controlMode: config.modelControlMode,
      pollIntervalMs: config.repositoryPollIntervalMs,
      startupModels: config.loadModels,
      limits: { maxLoadedVersions: config.maxLoadedModels, memoryBudgetBytes: config.memoryBudgetBytes },
      loadConcurrency: config.modelLoadConcurrency,
      drainTimeoutMs: config.drainTimeoutMs,
      observeScheduler: (model, version) => this.observed?.observer.schedulerObserver(model, version),
    });
    this.observed =
      adapters.observability === false
        ? undefined
        : createObservability({
            config,
            log,
            clock,
            models: this.models,
            inFlight: () => this.inference.pending,
            endpoints: () => this.endpoints.list().map((e) => e.endpoint),
            serverVersion,
            env: adapters.env ?? process.env,
            health,
            ...adapters.observability,
          });
    this.responseCache = adapters.responseCache === false ? undefined : (adapters.responseCache ?? responseCacheFor(config, clock, log, health));
    this.rateLimits = adapters.rateLimits === false ? undefined : (adapters.rateLimits ?? RateLimits.create(config.rateLimits, { clock, log, health }));
    this.inference = new InferenceService(this.models, {
      clock,
      requestTimeoutMs: config.requestTimeoutMs,
      cache: this.responseCache,
      cacheTtlMs: config.responseCache.ttlMs,
      observer: this.observed?.observer,
      limits: config.limits,
    });
    const configured = adapters.endpoints ?? compileConfiguredEndpoints(config.endpoints, 'configuration');
    this.endpoints = new Endpoints({
      configured,
      store: this.stateStore,
      models: this.models,
      clock,
      random: adapters.random ?? seededRandom(Date.now()),
      log,
      predictions: this.predictionStore,
      // A target of an endpoint (a split's arm, a cascade stage, a fallback, a shadow copy) runs
      // with the caller's context: the same request id, arrival time and trace.
      run: (target, request, context) => this.inference.infer(target.model, { version: target.version === undefined ? undefined : String(target.version), label: target.label }, request, context),
    });
    this.router = new Router(this.inference, this.endpoints, this.models);
    this.batch = this.predictionStore === undefined ? undefined : this.batchJobs(config, adapters, this.predictionStore);
  }

  private batchJobs(config: ServerConfig, adapters: SibylCoreAdapters, store: PredictionStore): BatchApi {
    const configDir = adapters.configDir ?? process.cwd();
    const jobs = new BatchJobManager({
      store,
      state: this.stateStore,
      clock: this.clock,
      log: this.log,
      maxRunningJobs: config.batch.maxRunningJobs,
      maxQueuedJobs: config.batch.maxQueuedJobs,
      runner: serverJobRunner({
        activity: this.onlineActivity,
        router: this.router,
        models: this.models,
        store,
        clock: this.clock,
        log: this.log,
        configDir,
        ...sqliteFileOf(config),
        serverStore: jobStoreOf(config),
        rejectsDir: rejectsDirOf(config),
        sandbox: jobSandboxOf(config, configDir),
        connections: jobConnectionsOf(config, configDir),
      }),
    });
    const schedules = new BatchScheduler({
      schedules: config.schedules,
      clock: this.clock,
      log: this.log,
      start: (name, schedule) => jobs.start({ jobFile: schedule.job }, `schedule:${name}`),
      history: () => store.listJobs({ limit: 1000 }),
    });
    return { jobs, schedules };
  }

  /**
   * The one door: the name rule and the request's limits, then the rate limits (a request over a
   * limit is refused with RATE_LIMITED before any work), then the router. The answer's size is
   * checked where every answer is built (InferenceService). Batch jobs are exempt: they pace themselves (they give way to
   * online traffic) and their rows are not callers' requests — they call the router directly, and
   * a context of entry `batch` that comes through here is not limited either.
   */
  infer(name: string, selector: VersionSelector, request: InferRequest, context: RequestContext): Promise<InferResponse> {
    // Every entry's names pass the one rule here (NAME_INVALID), whichever frontend decoded them.
    const invalid = nameError(name, 'model or endpoint');
    // (Not counted by name: a refused name never becomes a metric label.)
    if (invalid !== undefined) return Promise.reject(invalid);
    try {
      checkInferRequest(request, this.limits);
    } catch (err) {
      this.inference.rejected(name, selector, err as SibylError, context);
      return Promise.reject(err as SibylError);
    }
    const rateLimits = this.rateLimits;
    if (rateLimits === undefined || context.entry === 'batch') return this.router.infer(name, selector, request, context);
    const refused = rateLimits.admit(name, context.principal);
    if (refused === undefined) return this.router.infer(name, selector, request, context);
    if (refused instanceof Promise) return refused.then((r) => (r === undefined ? this.router.infer(name, selector, request, context) : this.refuse(name, selector, r, context)));
    return this.refuse(name, selector, refused, context);
  }

  /** Counts a refused request (sibyl_rate_limited_total, and with every failed request) and fails it. */
  private refuse(name: string, selector: VersionSelector, refusal: RateLimitRefusal, context: RequestContext): Promise<never> {
    // A name that does not exist is the caller's input: it never becomes a label value.
    const known = this.models.has(name) || this.endpoints.get(name) !== undefined ? name : '';
    this.observed?.metrics?.counter('sibyl_rate_limited_total').inc({ principal: refusal.principal, target: known, limit: refusal.limit });
    this.inference.rejected(known, selector, refusal.error, context);
    return Promise.reject(refusal.error);
  }

  rejected(name: string, selector: VersionSelector, error: SibylError, context: RequestContext): void {
    this.inference.rejected(name, selector, error, context);
  }

  answersByKey(name: string, selector: VersionSelector): boolean {
    return this.router.answersByKey(name, selector);
  }

  targetOf(name: string, selector: VersionSelector): { model: string; selector: VersionSelector } {
    checkName(name, 'model or endpoint');
    return this.router.targetOf(name, selector);
  }

  newContext(entry: EntryKind, init: RequestContextInit = {}): RequestContext {
    return { ...init, requestId: init.requestId ?? randomUUID(), arrivalMs: init.arrivalMs ?? this.clock.now(), entry };
  }

  get pending(): number {
    return this.inference.pending;
  }

  get storedPredictions(): PredictionStore | undefined {
    return this.predictionStore;
  }

  get observability(): ObservabilityApi {
    return this.observed ?? {};
  }

  degradedComponents(): readonly { component: string; reason?: string; sinceMs: number }[] {
    return this.health.degraded();
  }

  /** Whether every startup model has been through its first load (the server is ready once it is). */
  get loaded(): boolean {
    return this.models.loaded;
  }

  /** Installs the endpoints (before the models start, so the versions they pin load with the rest), then loads every model. */
  async start(): Promise<void> {
    await this.endpoints.load();
    await this.models.start();
    this.endpoints.checkTargets();
  }

  /** Resumes interrupted batch jobs and arms the schedules (after start()). */
  async startJobs(): Promise<void> {
    if (this.batch === undefined) return;
    await this.batch.jobs.recoverInterrupted();
    await this.batch.schedules.loadHistory();
    this.batch.schedules.start();
  }

  /** Stops the schedules and the running batch jobs (recorded as interrupted, to be resumed). */
  async stopJobs(): Promise<void> {
    if (this.batch === undefined) return;
    await Promise.all([this.batch.schedules.close(), this.batch.jobs.close()]);
  }

  /** Resolves when no request is in flight. */
  whenIdle(): Promise<void> {
    return this.inference.whenIdle();
  }

  /** Stops the endpoints' timers, then unloads the models (waiting at most `drainMs` for their requests) and flushes observability. */
  async release(drainMs: number): Promise<void> {
    this.endpoints.close();
    await Promise.all([this.models.close(drainMs), this.observed?.close()]);
  }

  /** Closes the stores, the response cache and the rate limits' backend (opened by the builder or given to it). */
  async closeStores(): Promise<void> {
    await Promise.all([this.stateStore.close(), this.predictionStore?.close(), this.responseCache?.close(), this.rateLimits?.close()]);
  }
}


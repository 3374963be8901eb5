// The composition root: the one place that constructs adapters and wires the layers together.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { createSystemClock, type Clock } from './core/clock.ts';
import { ComponentHealth, watchedStore } from './core/component-health.ts';
import { SibylError } from '@sibyl/protocol';
import { readMachineInfo, type MachineInfo } from './core/machine.ts';
import type { ServerConfig } from './config/server-config.ts';
import { PREDICTION_STORE_READ_TIMEOUT_MS } from './config/prediction-store-config.ts';
import { GrpcFrontend } from './frontends/grpc/grpc-frontend.ts';
import { buildHttpApp } from './frontends/http/app.ts';
import { availableMemoryBytes, resolveHttpLimits } from './frontends/http/http-limits.ts';
import { trackConnections } from './frontends/http/requestless-connections.ts';
import { buildMetricsApp } from './frontends/http/metrics-app.ts';
import { V2_EXTENSIONS } from './frontends/http/v2-routes.ts';
import { ModelManager } from './models/model-manager.ts';
import { compileConfiguredEndpoints, type EndpointConfig } from './config/endpoint-config.ts';
import { seededRandom, type Random } from './core/random.ts';
import { sleep, within } from './core/within.ts';
import { Endpoints } from './routing/endpoints.ts';
import { createObservability, type Observability, type ObservabilityOptions } from './observability/observability.ts';
import { InferenceService } from './routing/inference-service.ts';
import { Router } from './routing/router.ts';
import type { ResponseCache } from './routing/response-cache.ts';
import { MemoryResponseCache } from './cache/memory-cache.ts';
import { RedisResponseCache } from './cache/redis-cache.ts';
import { OnnxRuntime } from './runtimes/onnx/onnx-runtime.ts';
import type { Runtime } from './runtimes/runtime.ts';
import { SqliteStateStore } from './state/sqlite-state-store.ts';
import { BatchJobManager } from './batch/job-manager.ts';
import { BatchScheduler } from './batch/schedules.ts';
import { OnlineActivity, serverJobRunner } from './batch/server-job-runner.ts';
import { openPredictionStore } from './batch/open-prediction-store.ts';
import type { PredictionStore } from './batch/prediction-store.ts';
import { redactUrl } from './batch/redact-url.ts';
import type { StateStore } from './state/state-store.ts';
import { ThrottledLog } from './observability/logging/throttled-log.ts';

/** After the drain, the most time releasing models, observability and stores takes in all, in ms. */
export const SHUTDOWN_RELEASE_MS = 10_000;
/** After the last request is answered, how long open gRPC streams with nothing in flight may stay. */
const GRPC_IDLE_GRACE_MS = 1000;

export interface ShutdownOptions {
  /** Overrides config.shutdownGracePeriodMs (still at most drainTimeoutMs): `sibyl serve` passes 0 on SIGINT. */
  gracePeriodMs?: number;
}

export interface ShutdownResult {
  /** Every request received was answered within drainTimeoutMs. */
  drained: boolean;
  /** Models, observability and stores were released within SHUTDOWN_RELEASE_MS (false: something, such as a model execution, still runs). */
  released: boolean;
}

export interface SibylServerOptions {
  config: ServerConfig;
  /** The config's endpoints as compileServer compiled them; default: compiled here from config.endpoints. */
  endpoints?: ReadonlyMap<string, EndpointConfig>;
  log?: Logger;
  clock?: Clock;
  machine?: MachineInfo;
  runtime?: Runtime;
  /** Default: the SQLite file config.stateStore names, opened by create(). */
  stateStore?: StateStore;
  /** Default: the store config.predictionStore names, opened by create(). */
  predictionStore?: PredictionStore;
  /** Randomness of traffic policies (arm draws, shadow sampling). Default: seeded from the time. */
  random?: Random;
  /** Default: the backend config.responseCache names. */
  responseCache?: ResponseCache;
  /** Environment for OTEL_* (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Test hooks of observability: sampling randomness, a sink, a span exporter. */
  observability?: Pick<ObservabilityOptions, 'random' | 'openSink' | 'tracing'>;
  /** Folder of sibyl.yaml: job files given to the batch API resolve against it. Default: the working directory. */
  configDir?: string;
}

/** The response cache the configuration asks for (Redis connects in the background). */
function responseCacheFor(config: ServerConfig, clock: Clock, log: Logger, health: ComponentHealth): ResponseCache {
  const c = config.responseCache;
  if (c.backend === 'redis') return RedisResponseCache.create({ url: c.redisUrl, keyPrefix: c.redisKeyPrefix, timeoutMs: c.redisTimeoutMs, log, health });
  return new MemoryResponseCache({ maxEntries: c.maxEntries, maxBytes: c.maxBytes, clock });
}

/** The prediction store's methods that only read: they get predictionStore.readTimeoutMs. */
const PREDICTION_STORE_READS = new Set(['lookup', 'getJob', 'listJobs', 'committedChunks']);

/** The prediction store's file when it is SQLite on disk (jobs in the server commit to it from a worker thread). */
function sqliteFileOf(config: ServerConfig): { sqliteFile?: string } {
  const store = config.predictionStore;
  return store.backend === 'sqlite' && store.path !== ':memory:' ? { sqliteFile: store.path } : {};
}

/** The server's prediction store as a job spec names it, for the records of jobs run here (never the password of a URL). */
function jobStoreOf(config: ServerConfig): { sqlite: string } | { postgres: string } {
  const store = config.predictionStore;
  if (store.backend === 'sqlite') return { sqlite: store.path === ':memory:' ? store.path : path.resolve(store.path) };
  return { postgres: store.url === '' ? '(the PG* environment variables)' : redactUrl(store.url) };
}

/** Reject files of jobs sent to the server without `rejects`: `rejects/` beside the state store (under `.sibyl/` by default), never the working directory itself. */
function rejectsDirOf(config: ServerConfig): string {
  return path.resolve(config.stateStore === ':memory:' ? '.sibyl' : path.dirname(config.stateStore), 'rejects');
}

/** The server package's version, read when a server is built (never at import time). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

export class SibylServer {
  readonly config: ServerConfig;
  readonly log: Logger;
  /** Rate-limits the log lines clients can cause (and process warnings): a burst per kind, then a summary. */
  readonly lineLimiter: ThrottledLog;
  readonly models: ModelManager;
  readonly inference: InferenceService;
  readonly endpoints: Endpoints;
  readonly responseCache: ResponseCache;
  readonly router: Router;
  readonly http: FastifyInstance;
  /** Metrics, prediction log, drift and tracing (the parts that are on). */
  readonly observability: Observability;
  /** The listener of `metrics.port`, when configured. */
  readonly metricsHttp: FastifyInstance | undefined;
  readonly grpc: GrpcFrontend;
  /** Version of the server package, as `GET /v2` reports it. */
  readonly version: string;
  readonly stateStore: StateStore;
  /** Batch jobs run inside the server (API, schedules). */
  readonly batchJobs: BatchJobManager;
  /** When online inference requests last arrived: jobs in the server slow down while they do. */
  readonly onlineActivity = new OnlineActivity();
  /** The schedules of sibyl.yaml; armed by start(). */
  readonly schedules: BatchScheduler;
  /** Where batch jobs write predictions and lookups and hybrid endpoints read them; closed on shutdown. */
  readonly predictionStore: PredictionStore;
  /**
   * The supporting components' health (state store, prediction store, prediction log, response
   * cache): degraded while they fail, shown by /v2/health/ready and sibyl_component_degraded.
   */
  readonly health: ComponentHealth;
  private readonly clock: Clock;
  private readonly connections: { closeWithoutRequest(): number };
  private draining = false;
  private shutdownPromise: Promise<ShutdownResult> | undefined;

  /** Opens the state store and the prediction store (unless given), then builds the server. */
  static async create(options: SibylServerOptions): Promise<SibylServer> {
    const stateStore = options.stateStore ?? (await SqliteStateStore.open(options.config.stateStore));
    let predictionStore: PredictionStore;
    try {
      predictionStore = options.predictionStore ?? (await openPredictionStore(options.config.predictionStore));
    } catch (err) {
      if (options.stateStore === undefined) await stateStore.close();
      throw err;
    }
    return new SibylServer({ ...options, stateStore, predictionStore });
  }

  constructor(options: SibylServerOptions & { stateStore: StateStore; predictionStore: PredictionStore }) {
    const config = options.config;
    this.config = config;
    this.version = packageVersion();
    this.clock = options.clock ?? createSystemClock();
    // Log lines are written asynchronously (flushed at exit), never waiting for stdout.
    this.log = options.log ?? pino({ level: config.logLevel, base: { service: 'sibyl' } }, pino.destination({ sync: false }));
    this.lineLimiter = new ThrottledLog(this.log, this.clock);
    this.health = new ComponentHealth(this.clock);
    this.health.onChange((c) =>
      c.state === 'degraded'
        ? this.log.error({ component: c.component }, `${c.component} is degraded: ${c.reason}; inference goes on`)
        : this.log.info({ component: c.component }, `${c.component} has recovered`),
    );
    this.stateStore = watchedStore(options.stateStore, 'state_store', this.health, {
      isCallerError: (err) => err instanceof SibylError,
      toError: (err, method) =>
        new SibylError('STATE_STORE_UNAVAILABLE', `the state store could not ${method}: ${(err as Error).message}; what this request changed is not saved and would not survive a restart`, { cause: err }),
    });
    const readTimeoutMs = config.predictionStore.readTimeoutMs ?? PREDICTION_STORE_READ_TIMEOUT_MS;
    this.predictionStore = watchedStore(options.predictionStore, 'prediction_store', this.health, {
      isCallerError: (err) => err instanceof SibylError,
      timeout: { clock: this.clock, ms: (method) => (PREDICTION_STORE_READS.has(method) ? readTimeoutMs : undefined) },
      toError: (err, method) => new SibylError('PREDICTION_STORE_UNAVAILABLE', `the prediction store could not ${method}: ${(err as Error).message}`, { cause: err }),
    });
    this.models = new ModelManager({
      repository: config.modelRepository,
      runtime: options.runtime ?? new OnnxRuntime(),
      clock: this.clock,
      machine: options.machine ?? readMachineInfo(),
      log: this.log,
      store: this.stateStore,
      controlMode: config.modelControlMode,
      pollIntervalMs: config.repositoryPollIntervalMs,
      startupModels: config.loadModels,
      limits: { maxLoadedVersions: config.maxLoadedModels, memoryBudgetBytes: config.memoryBudgetBytes },
      loadConcurrency: config.modelLoadConcurrency,
      drainTimeoutMs: config.drainTimeoutMs,
      observeScheduler: (model, version) => this.observability.observer.schedulerObserver(model, version),
    });
    this.observability = createObservability({
      config: options.config,
      log: this.log,
      clock: this.clock,
      models: this.models,
      inFlight: () => this.inference.pending,
      endpoints: () => this.endpoints.list().map((e) => e.endpoint),
      serverVersion: this.version,
      env: options.env ?? process.env,
      health: this.health,
      ...options.observability,
    });
    this.responseCache = options.responseCache ?? responseCacheFor(config, this.clock, this.log, this.health);
    this.inference = new InferenceService(this.models, {
      clock: this.clock,
      requestTimeoutMs: config.requestTimeoutMs,
      cache: this.responseCache,
      cacheTtlMs: config.responseCache.ttlMs,
      observer: this.observability.observer,
    });
    const configured = options.endpoints ?? compileConfiguredEndpoints(config.endpoints, 'configuration');
    this.endpoints = new Endpoints({
      configured,
      store: this.stateStore,
      models: this.models,
      clock: this.clock,
      random: options.random ?? seededRandom(Date.now()),
      log: this.log,
      predictions: this.predictionStore,
      run: (target, request, context) =>
        this.inference.infer(target.model, { version: target.version === undefined ? undefined : String(target.version), label: target.label }, request, context.signal),
    });
    this.router = new Router(this.inference, this.endpoints, this.models, this.clock);
    this.batchJobs = new BatchJobManager({
      store: this.predictionStore,
      state: this.stateStore,
      clock: this.clock,
      log: this.log,
      maxRunningJobs: config.batch.maxRunningJobs,
      maxQueuedJobs: config.batch.maxQueuedJobs,
      runner: serverJobRunner({
        activity: this.onlineActivity,
        router: this.router,
        models: this.models,
        store: this.predictionStore,
        clock: this.clock,
        log: this.log,
        configDir: options.configDir ?? process.cwd(),
        ...sqliteFileOf(config),
        serverStore: jobStoreOf(config),
        rejectsDir: rejectsDirOf(config),
      }),
    });
    this.schedules = new BatchScheduler({
      schedules: config.schedules,
      clock: this.clock,
      log: this.log,
      start: (name, schedule) => this.batchJobs.start({ jobFile: schedule.job }, `schedule:${name}`),
      history: () => this.predictionStore.listJobs({ limit: 1000 }),
    });
    const { metrics, predictions, drift, tracing } = this.observability;
    this.metricsHttp = metrics !== undefined && options.config.metrics.port !== undefined ? buildMetricsApp(metrics, this.log) : undefined;
    this.http = buildHttpApp({
      metrics,
      predictions,
      drift,
      tracing,
      accessLog: options.config.accessLog,
      log: this.log,
      lineLimiter: this.lineLimiter,
      limits: resolveHttpLimits(options.config.http, availableMemoryBytes()),
      models: this.models,
      inference: this.inference,
      router: this.router,
      endpoints: this.endpoints,
      serverName: 'sibyl',
      serverVersion: this.version,
      isDraining: () => this.draining,
      isReady: () => !this.draining && this.models.loaded,
      notReadyReason: () => 'the server is still loading its models',
      degradedComponents: () => this.health.degraded(),
      corsOrigins: options.config.http.corsOrigins,
      predictionStore: this.predictionStore,
      clock: this.clock,
      batch: { batchJobs: this.batchJobs, schedules: this.schedules },
      onlineActivity: this.onlineActivity,
    });
    this.connections = trackConnections(this.http.server);
    this.grpc = new GrpcFrontend({
      log: this.log,
      lineLimiter: this.lineLimiter,
      models: this.models,
      router: this.router,
      inference: this.inference,
      serverName: 'sibyl',
      serverVersion: this.version,
      extensions: V2_EXTENSIONS,
      maxMessageBytes: options.config.grpc.maxMessageBytes,
      isReady: () => !this.draining && this.models.loaded,
      isDraining: () => this.draining,
      onlineActivity: this.onlineActivity,
    });
  }

  /** Listens (so liveness answers during loading), then loads every model. Resolves with the URL. */
  async start(): Promise<string> {
    await this.http.listen({ host: this.config.host, port: this.config.http.port });
    await this.grpc.listen(this.config.host, this.config.grpc.port);
    await this.endpoints.load();
    await this.metricsHttp?.listen({ host: this.config.host, port: this.config.metrics.port });
    await this.models.start();
    this.endpoints.checkTargets();
    this.grpc.refreshHealth();
    await this.batchJobs.recoverInterrupted();
    await this.schedules.loadHistory();
    this.schedules.start();
    return this.url;
  }

  /** `http://host:port` the server listens on (the real port when configured as 0). */
  get url(): string {
    return this.urlOf(this.http, this.config.http.port);
  }

  /** `http://host:port` of the metrics listener, when there is one. */
  get metricsUrl(): string | undefined {
    return this.metricsHttp === undefined ? undefined : this.urlOf(this.metricsHttp, this.config.metrics.port ?? 0);
  }

  private urlOf(app: FastifyInstance, configuredPort: number): string {
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : configuredPort;
    const host = this.config.host.includes(':') ? `[${this.config.host}]` : this.config.host;
    return `http://${host}:${port}`;
  }

  /** `host:port` of the gRPC server (the real port when configured as 0), once listening. */
  get grpcAddress(): string {
    const host = this.config.host.includes(':') ? `[${this.config.host}]` : this.config.host;
    return `${host}:${this.grpc.boundPort ?? this.config.grpc.port}`;
  }

  /**
   * Graceful shutdown, bounded by drainTimeoutMs plus at most SHUTDOWN_RELEASE_MS (see
   * doShutdown for the steps). Idempotent: later calls get the first call's result.
   */
  shutdown(options: ShutdownOptions = {}): Promise<ShutdownResult> {
    this.shutdownPromise ??= this.doShutdown(options);
    return this.shutdownPromise;
  }

  /**
   * 1. Readiness turns false (HTTP /v2/health/ready 503, gRPC health NOT_SERVING) and every new
   *    request but liveness gets 503 SERVER_DRAINING with Connection: close (gRPC UNAVAILABLE);
   *    batch jobs and schedules stop.
   * 2. For the grace period the listeners stay open, so that a client whose load balancer still
   *    sends here is told to retry elsewhere instead of getting connection refused. Requests
   *    already received keep running; every answer closes its connection.
   * 3. The listeners close: idle keep-alive connections are closed, busy ones after their answer.
   *    Every request received is answered unless drainTimeoutMs (counted from the start, grace
   *    included) passes first; then the remaining connections and calls are cut.
   * 4. Models, observability and stores are released within SHUTDOWN_RELEASE_MS in all; a step
   *    that overruns (a model execution that goes on, say) is logged and left behind.
   * No step waits without a deadline.
   */
  private async doShutdown(options: ShutdownOptions): Promise<ShutdownResult> {
    const clock = this.clock;
    const drainTimeoutMs = this.config.drainTimeoutMs;
    const drainEnd = clock.now() + drainTimeoutMs;
    const drainLeft = (): number => Math.max(0, drainEnd - clock.now());
    const gracePeriodMs = Math.min(options.gracePeriodMs ?? this.config.shutdownGracePeriodMs, drainTimeoutMs);
    this.draining = true;
    this.grpc.refreshHealth();
    this.log.info(
      { pending: this.inference.pending, gracePeriodMs, drainTimeoutMs },
      `shutting down: not ready; new requests get 503 for ${gracePeriodMs} ms, then the listeners close; requests in flight are answered (at most ${drainTimeoutMs} ms in all)`,
    );
    const graceOver = sleep(gracePeriodMs, clock);
    // Batch jobs would keep requests in flight until the drain timeout: they stop first (and are
    // recorded as interrupted, to be resumed).
    if (!(await within(Promise.all([this.schedules.close(), this.batchJobs.close()]), drainLeft(), clock))) {
      this.log.warn(`shutting down: batch jobs did not stop within the drain timeout of ${drainTimeoutMs} ms; going on`);
    }
    await graceOver;
    // One turn of the event loop, so that requests whose bytes have arrived are read (their
    // connections are then busy) before the idle connections are closed.
    await new Promise((resolve) => setImmediate(resolve));
    this.log.info({ pending: this.inference.pending }, 'shutting down: closing the listeners; draining the requests in flight');
    const httpClosed = Promise.all([this.http.close(), this.metricsHttp?.close()]);
    this.connections.closeWithoutRequest();
    void this.grpc.stopAccepting();
    const drained = await within(Promise.all([this.inference.whenIdle(), httpClosed]), drainLeft(), clock);
    if (!drained) {
      this.log.warn({ pending: this.inference.pending }, `drain timeout of ${drainTimeoutMs} ms passed; closing with requests in flight`);
      this.http.server.closeAllConnections();
      this.metricsHttp?.server.closeAllConnections();
    }

    const releaseEnd = clock.now() + SHUTDOWN_RELEASE_MS;
    const releaseLeft = (): number => Math.max(0, releaseEnd - clock.now());
    let released = true;
    const step = async (what: string, work: Promise<unknown>): Promise<void> => {
      if (await within(work, releaseLeft(), clock)) return;
      released = false;
      this.log.warn(`shutting down: ${what} did not finish within ${SHUTDOWN_RELEASE_MS} ms; going on without it`);
    };
    await step('closing the HTTP connections', httpClosed);
    this.endpoints.close();
    // Open streams with nothing in flight would hold the gRPC server open: a short grace, then close.
    await this.grpc.close(drained ? Math.min(GRPC_IDLE_GRACE_MS, releaseLeft()) : 0);
    await step('unloading the models and flushing the prediction log and traces', Promise.all([this.models.close(drained ? Math.min(drainLeft(), releaseLeft()) : 0), this.observability.close()]));
    await step('closing the stores', Promise.all([this.stateStore.close(), this.predictionStore.close(), this.responseCache.close()]));
    this.lineLimiter.close();
    this.log.info({ drained, released }, 'shut down');
    return { drained, released };
  }
}

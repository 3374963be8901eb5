// The composition root: builds the serving core (serving/sibyl-core.ts) from the configuration
// and adapters, and keeps what belongs to a server process around it: the HTTP, gRPC and metrics
// listeners, the log, and the shutdown choreography.
import type { Server as TlsServer } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { createSystemClock, type Clock } from './core/clock.ts';
import type { ComponentHealth } from './core/component-health.ts';
import type { MachineInfo } from './core/machine.ts';
import type { EndpointConfig } from './config/endpoint-config.ts';
import type { ServerConfig } from './config/server-config.ts';
import { GrpcFrontend } from './frontends/grpc/grpc-frontend.ts';
import { buildHttpApp } from './frontends/http/app.ts';
import { availableMemoryBytes, resolveHttpLimits } from './frontends/http/http-limits.ts';
import { trackConnections } from './frontends/http/requestless-connections.ts';
import { buildMetricsApp } from './frontends/http/metrics-app.ts';
import { hostCheckWarning } from './frontends/http/browser-policy.ts';
import { V2_EXTENSIONS } from './frontends/http/v2-routes.ts';
import type { ModelManager } from './models/model-manager.ts';
import type { Random } from './core/random.ts';
import { sleep, within } from './core/within.ts';
import type { Endpoints } from './routing/endpoints.ts';
import type { Observability, ObservabilityOptions } from './observability/observability.ts';
import type { InferenceService } from './routing/inference-service.ts';
import type { Router } from './routing/router.ts';
import type { ResponseCache } from './routing/response-cache.ts';
import type { Runtime } from './runtimes/runtime.ts';
import type { BatchJobManager } from './batch/job-manager.ts';
import type { BatchScheduler } from './batch/schedules.ts';
import type { OnlineActivity } from './batch/server-job-runner.ts';
import type { PredictionStore } from './batch/prediction-store.ts';
import type { StateStore } from './state/state-store.ts';
import { ThrottledLog } from './observability/logging/throttled-log.ts';
import { createSibylCore, type SibylCore } from './serving/sibyl-core.ts';
import { openListenerTls, type ListenerTls } from './security/listener-tls.ts';
import { createAccessControl, type AccessControl } from './security/access-control.ts';
import { bindDecision, refusedBindMessage, unauthenticatedWarning } from './security/bind-policy.ts';
import { ConfigError } from './config/validate.ts';

/** How often a server without authentication on a non-loopback host repeats its warning. */
const UNAUTHENTICATED_WARNING_INTERVAL_MS = 3_600_000;

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

export class SibylServer {
  readonly config: ServerConfig;
  readonly log: Logger;
  /** Rate-limits the log lines clients can cause (and process warnings): a burst per kind, then a summary. */
  readonly lineLimiter: ThrottledLog;
  /** The serving core: models, inference, endpoints, routing, batch jobs. */
  readonly core: SibylCore;
  readonly http: FastifyInstance;
  /** The listener of `metrics.port`, when configured. */
  readonly metricsHttp: FastifyInstance | undefined;
  /** The listener of `management.port`, when configured: the management API is served there only. */
  readonly managementHttp: FastifyInstance | undefined;
  /** Authentication (off when none is configured) and the audit log. */
  readonly access: AccessControl;
  readonly grpc: GrpcFrontend;
  /** Version of the server package, as `GET /v2` reports it. */
  readonly version: string;
  /** TLS of every listener (tls.certFile set), with the reloader of its certificate. */
  readonly tls: ListenerTls | undefined;
  private readonly clock: Clock;
  private readonly connections: { closeWithoutRequest(): number };
  private draining = false;
  private shutdownPromise: Promise<ShutdownResult> | undefined;
  private unauthenticatedWarnings: ReturnType<typeof setInterval> | undefined;

  /** Builds the serving core (opening the stores not given), then the listeners around it. */
  static async create(options: SibylServerOptions): Promise<SibylServer> {
    const config = options.config;
    const clock = options.clock ?? createSystemClock();
    // Log lines are written asynchronously (flushed at exit), never waiting for stdout.
    const log = options.log ?? pino({ level: config.logLevel, base: { service: 'sibyl' } }, pino.destination({ sync: false }));
    // Secure by default: checked before anything is opened.
    const access = await createAccessControl({ auth: config.auth, auditFile: config.audit.file, log, configDir: options.configDir });
    if (bindDecision(config.host, access.authenticator.enabled, config.allowUnauthenticated) === 'refused') {
      await access.audit.close();
      throw new ConfigError('configuration', [{ path: 'host', message: refusedBindMessage(config.host) }]);
    }
    // Unusable certificate files refuse the start (ConfigError naming the field) before anything opens.
    let tls: ListenerTls | undefined;
    let core: SibylCore;
    try {
      tls = await openListenerTls(config.tls, log);
      core = await createSibylCore(config, {
        log,
        clock,
        machine: options.machine,
        runtime: options.runtime,
        stateStore: options.stateStore,
        predictionStore: options.predictionStore,
        random: options.random,
        responseCache: options.responseCache,
        env: options.env,
        observability: options.observability ?? {},
        configDir: options.configDir,
        endpoints: options.endpoints,
      });
    } catch (err) {
      tls?.close();
      await access.audit.close();
      throw err;
    }
    return new SibylServer(config, log, clock, core.serverVersion, core, access, tls);
  }

  private constructor(config: ServerConfig, log: Logger, clock: Clock, version: string, core: SibylCore, access: AccessControl, tls: ListenerTls | undefined) {
    this.config = config;
    this.access = access;
    this.tls = tls;
    this.log = log;
    this.clock = clock;
    this.version = version;
    this.core = core;
    this.lineLimiter = new ThrottledLog(this.log, this.clock);
    core.health.onChange((c) =>
      c.state === 'degraded'
        ? this.log.error({ component: c.component }, `${c.component} is degraded: ${c.reason}; inference goes on`)
        : this.log.info({ component: c.component }, `${c.component} has recovered`),
    );
    const metrics = core.observability.metrics;
    this.metricsHttp = metrics !== undefined && config.metrics.port !== undefined ? buildMetricsApp(metrics, this.log, { allowedHosts: config.http.allowedHosts, lines: this.lineLimiter, https: tls?.httpsOptions(), access }) : undefined;
    const separateManagement = config.management.port !== undefined;
    const httpOptions = {
      core,
      accessLog: config.accessLog,
      log: this.log,
      lineLimiter: this.lineLimiter,
      limits: resolveHttpLimits(config.http, availableMemoryBytes()),
      serverName: 'sibyl',
      serverVersion: this.version,
      isDraining: () => this.draining,
      isReady: () => !this.draining && core.loaded,
      notReadyReason: () => 'the server is still loading its models',
      corsOrigins: config.http.corsOrigins,
      https: tls?.httpsOptions(),
      principalOf: tls?.principalOfConnection,
      allowedHosts: config.http.allowedHosts,
      allowedOrigins: config.http.allowedOrigins,
      access,
    };
    this.http = buildHttpApp({ ...httpOptions, plane: separateManagement ? 'data' : 'all' });
    this.managementHttp = separateManagement ? buildHttpApp({ ...httpOptions, plane: 'management' }) : undefined;
    if (tls !== undefined) {
      // https.Server under the plain type (see buildHttpApp): it has setSecureContext.
      for (const app of [this.http, this.managementHttp, this.metricsHttp]) if (app !== undefined) tls.follow(app.server as unknown as TlsServer);
    }
    this.connections = trackConnections(this.http.server);
    this.grpc = new GrpcFrontend({
      core,
      log: this.log,
      lineLimiter: this.lineLimiter,
      serverName: 'sibyl',
      serverVersion: this.version,
      extensions: V2_EXTENSIONS,
      maxMessageBytes: config.grpc.maxMessageBytes,
      isReady: () => !this.draining && core.loaded,
      isDraining: () => this.draining,
      credentials: tls?.grpcCredentials,
      principalOf: tls?.principalOfCertificate,
      access,
    });
    this.warnIfUnauthenticated();
  }

  // The core's parts, for the CLI and tests that reach them through the server.
  get models(): ModelManager {
    return this.core.models;
  }
  get inference(): InferenceService {
    return this.core.inference;
  }
  get endpoints(): Endpoints {
    return this.core.endpoints;
  }
  get router(): Router {
    return this.core.router;
  }
  /** Metrics, prediction log, drift and tracing (the parts that are on). */
  get observability(): Observability {
    return this.core.observed!;
  }
  get responseCache(): ResponseCache {
    return this.core.responseCache!;
  }
  get stateStore(): StateStore {
    return this.core.stateStore;
  }
  /** Where batch jobs write predictions and lookups and hybrid endpoints read them; closed on shutdown. */
  get predictionStore(): PredictionStore {
    return this.core.predictionStore!;
  }
  /** Batch jobs run inside the server (API, schedules). */
  get batchJobs(): BatchJobManager {
    return this.core.batch!.jobs;
  }
  /** The schedules of sibyl.yaml; armed by start(). */
  get schedules(): BatchScheduler {
    return this.core.batch!.schedules;
  }
  get health(): ComponentHealth {
    return this.core.health;
  }
  get onlineActivity(): OnlineActivity {
    return this.core.onlineActivity;
  }

  /** Listens (so liveness answers during loading), then loads every model. Resolves with the URL. */
  async start(): Promise<string> {
    const hostWarning = hostCheckWarning(this.config.host, this.config.http.allowedHosts);
    if (hostWarning !== undefined) this.log.warn(hostWarning);
    await this.http.listen({ host: this.config.host, port: this.config.http.port });
    await this.grpc.listen(this.config.host, this.config.grpc.port);
    await this.metricsHttp?.listen({ host: this.config.host, port: this.config.metrics.port });
    await this.managementHttp?.listen({ host: this.config.host, port: this.config.management.port });
    await this.core.start();
    this.grpc.refreshHealth();
    await this.core.startJobs();
    return this.url;
  }

  /** `http(s)://host:port` the server listens on (the real port when configured as 0). */
  get url(): string {
    return this.urlOf(this.http, this.config.http.port);
  }

  /** Said loudly when the server is made, and every hour: a server anyone who reaches it may control. */
  private warnIfUnauthenticated(): void {
    if (bindDecision(this.config.host, this.access.authenticator.enabled, this.config.allowUnauthenticated) !== 'unauthenticated-allowed') return;
    const warn = (): void => this.log.warn({ security: 'unauthenticated', host: this.config.host }, unauthenticatedWarning(this.config.host));
    warn();
    this.unauthenticatedWarnings = setInterval(warn, UNAUTHENTICATED_WARNING_INTERVAL_MS);
    this.unauthenticatedWarnings.unref();
  }

  /** `http://host:port` of the management listener, when there is one. */
  get managementUrl(): string | undefined {
    return this.managementHttp === undefined ? undefined : this.urlOf(this.managementHttp, this.config.management.port ?? 0);
  }

  /** `http://host:port` of the metrics listener, when there is one. */
  get metricsUrl(): string | undefined {
    return this.metricsHttp === undefined ? undefined : this.urlOf(this.metricsHttp, this.config.metrics.port ?? 0);
  }

  private urlOf(app: FastifyInstance, configuredPort: number): string {
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : configuredPort;
    const host = this.config.host.includes(':') ? `[${this.config.host}]` : this.config.host;
    return `${this.tls === undefined ? 'http' : 'https'}://${host}:${port}`;
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
    clearInterval(this.unauthenticatedWarnings);
    this.grpc.refreshHealth();
    this.log.info(
      { pending: this.core.pending, gracePeriodMs, drainTimeoutMs },
      `shutting down: not ready; new requests get 503 for ${gracePeriodMs} ms, then the listeners close; requests in flight are answered (at most ${drainTimeoutMs} ms in all)`,
    );
    const graceOver = sleep(gracePeriodMs, clock);
    // Batch jobs would keep requests in flight until the drain timeout: they stop first (and are
    // recorded as interrupted, to be resumed).
    if (!(await within(this.core.stopJobs(), drainLeft(), clock))) {
      this.log.warn(`shutting down: batch jobs did not stop within the drain timeout of ${drainTimeoutMs} ms; going on`);
    }
    await graceOver;
    // One turn of the event loop, so that requests whose bytes have arrived are read (their
    // connections are then busy) before the idle connections are closed.
    await new Promise((resolve) => setImmediate(resolve));
    this.log.info({ pending: this.core.pending }, 'shutting down: closing the listeners; draining the requests in flight');
    const httpClosed = Promise.all([this.http.close(), this.metricsHttp?.close(), this.managementHttp?.close()]);
    this.connections.closeWithoutRequest();
    void this.grpc.stopAccepting();
    const drained = await within(Promise.all([this.core.whenIdle(), httpClosed]), drainLeft(), clock);
    if (!drained) {
      this.log.warn({ pending: this.core.pending }, `drain timeout of ${drainTimeoutMs} ms passed; closing with requests in flight`);
      this.http.server.closeAllConnections();
      this.metricsHttp?.server.closeAllConnections();
      this.managementHttp?.server.closeAllConnections();
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
    // Open streams with nothing in flight would hold the gRPC server open: a short grace, then close.
    await this.grpc.close(drained ? Math.min(GRPC_IDLE_GRACE_MS, releaseLeft()) : 0);
    await step('unloading the models and flushing the prediction log and traces', this.core.release(drained ? Math.min(drainLeft(), releaseLeft()) : 0));
    await step('closing the stores', this.core.closeStores());
    this.tls?.close();
    await step('closing the audit file', this.access.audit.close());
    this.lineLimiter.close();
    this.log.info({ drained, released }, 'shut down');
    return { drained, released };
  }
}

// The HTTP frontend: a Fastify app with the V2 and TF Serving routes, one error format, raw bodies (decoded
// by the protocol codecs, never by a generic JSON parser) and the draining gate.
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { SibylError, isUnexpectedServerFault } from '@sibyl/protocol';
import type { Logger } from 'pino';
import { installBodyIntake, keepConnectionOfUnreadRefusal } from './body-intake.ts';
import { allowOrigins } from './cors.ts';
import { installBrowserGuard } from './browser-guard.ts';
import { compileBrowserPolicy } from './browser-policy.ts';
import { sendError, toHttpError } from './errors.ts';
import { limitOptions, type HttpLimits } from './http-limits.ts';
import { installPathNameCheck } from './path-names.ts';
import { registerBatchRoutes } from './batch-routes.ts';
import { registerEndpointRoutes } from './endpoint-routes.ts';
import { registerRepositoryRoutes } from './repository-routes.ts';
import { registerObservabilityRoutes } from './observability-routes.ts';
import { registerPredictionRoutes } from './prediction-routes.ts';
import { installAccessLog, installTracingHooks } from './tracing-hooks.ts';
import { installAccessHooks, type Plane } from './access-hooks.ts';
import { registerTfServingRoutes } from './tfserving/tfserving-routes.ts';
import { registerV2Routes, type V2RouteDeps } from './v2-routes.ts';
import { UNTHROTTLED, type AccessControl, type KeyedLineWriter, type Principal } from '../../serving/frontend-vocabulary.ts';
import type { ServingApi } from '../../serving/serving-api.ts';
import { ArrivalClock, noteArrival } from './arrival-clock.ts';

export interface HttpAppOptions extends Omit<V2RouteDeps, 'models'> {
  /** The serving core every route reaches (inference, model and endpoint control, batch jobs, observability). */
  core: ServingApi;
  log: Logger;
  /** mTLS: the principal of the connection's verified client certificate (absent without client certificates); the access hook admits it. */
  principalOf?: (socket: unknown) => Principal | undefined;
  /** Rate-limits the lines a client can cause (failed requests); default: every line is written. */
  lineLimiter?: KeyedLineWriter;
  /** Body size, body budget, receive timeouts (see http-limits.ts). */
  limits: HttpLimits;
  /** True once shutdown began: every request but the liveness probe gets 503 SERVER_DRAINING. */
  isDraining: () => boolean;
  /** One log line per request (see installAccessLog). */
  accessLog?: boolean;
  /** Origins whose pages may call the API (CORS); `*` for any. They may also post (see allowedOrigins). */
  corsOrigins?: readonly string[];
  /** TLS: options of the HTTPS server (certificate, key, client certificates); absent: plain HTTP. */
  https?: HttpsServerOptions;
  /** Names the Host header may carry (http.allowedHosts; see browser-policy.ts); default none: loopback names on loopback connections, any elsewhere. */
  allowedHosts?: readonly string[];
  /** Origins whose pages may post without CORS (http.allowedOrigins); default none: the server's own and corsOrigins. */
  allowedOrigins?: readonly string[];
  /** Authentication, scopes and the audit log (see access-hooks.ts); absent: every route open, nothing audited. */
  access?: AccessControl;
  /** The routes this listener serves (default all; see access-hooks.ts). Needs `access`. */
  plane?: Plane;
}

const ALWAYS_ANSWERED = new Set(['/v2/health/live', '/metrics']);

export function buildHttpApp(options: HttpAppOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.log as FastifyBaseLogger,
    // Fastify's own per-request log lines are off (the optional access log is one line, after the
    // response); log lines about a request carry its id (x-request-id, or one made here: see requestIdGenerator) as requestId.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    ...limitOptions(options.limits),
    // Requests arriving while the server closes get the draining gate's 503 below (our error
    // format, Connection: close), not Fastify's own. Closing the listener closes the idle
    // keep-alive connections; SibylServer.shutdown() does it only after the grace period.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // An https.Server is an http.Server with TLS underneath: the instance keeps the plain type.
    ...(options.https === undefined ? {} : { https: options.https }),
  }) as FastifyInstance;
  registerHttpRoutes(app, options);
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new SibylError('ROUTE_NOT_FOUND', `no endpoint for ${request.method} ${request.url.split('?')[0]}; see docs/reference/rest-api.md`)),
  );
  return app;
}

/**
 * Registers Sibyl's hooks, error handler and routes (V2, TF Serving, management, observability,
 * batch, stored predictions) on `app`: the server's own app, or — as a plugin — an application's
 * Fastify instance, where they stay within the plugin's encapsulation context.
 */
export function registerHttpRoutes(app: FastifyInstance, options: HttpAppOptions): void {
  const core = options.core;
  const { metrics, predictions, drift, tracing } = core.observability;
  const lines = options.lineLimiter ?? UNTHROTTLED;
  // First of all hooks: a request a web page must not make is refused before anything else runs.
  installBrowserGuard(app, {
    policy: compileBrowserPolicy(options),
    exempt: new Set([`${app.prefix}/v2/health/live`, `${app.prefix}/v2/health/ready`]),
    lines,
  });
  // Bodies stay raw bytes, within the body limit and the shared body budget.
  const budget = installBodyIntake(app, options.limits);
  metrics?.watchBodyBudget(budget);

  // Callback-style hooks: an async hook costs a promise per request on the hot path. The first
  // notes when a request arrived (core clock): every frontend's latency counts from there.
  const activity = core.onlineActivity;
  const arrivals = new ArrivalClock();
  app.addHook('onRequest', (request, reply, done) => {
    if (request.method === 'POST') {
      noteArrival(request, arrivals.arrivalMs(core.clock.now()));
      activity.touch(performance.now());
    }
    if (options.isDraining() && !ALWAYS_ANSWERED.has(request.routeOptions.url ?? '')) {
      sendError(reply, new SibylError('SERVER_DRAINING', 'the server is shutting down and takes no new requests; retry on another replica'), { ready: false });
      return;
    }
    done();
  });

  if (options.access !== undefined) installAccessHooks(app, options.access, options.plane, options.principalOf);
  installPathNameCheck(app);

  // While draining, every answer closes its connection (the request in flight as much as a 503),
  // so keep-alive clients reconnect elsewhere instead of sending into a closing socket.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (options.isDraining()) reply.header('connection', 'close');
    done(null, payload);
  });

  app.setErrorHandler((err, request, reply) => {
    const error = toHttpError(err as FastifyError, options.limits.bodyLimitBytes);
    // Keyed by reason and route, never by the message: a client repeating a failing request writes
    // at most a burst of lines per window, then one summary (observability/logging/throttled-log.ts).
    const key = `http ${request.method} ${request.routeOptions.url ?? '(no route)'} ${error.reason}`;
    const log = request.log as Logger;
    if (isUnexpectedServerFault(error)) lines.write(log, 'error', key, { err: error.cause ?? error, url: request.url }, error.message);
    // A client error's message may quote input values (a redacted field, say): only its reason is logged.
    else lines.write(log, 'debug', key, { reason: error.reason, url: request.url }, `request failed: ${error.reason}`);
    keepConnectionOfUnreadRefusal(request, reply);
    return sendError(reply, error);
  });

  if (tracing !== undefined) installTracingHooks(app, tracing);
  if (options.accessLog === true) installAccessLog(app);
  allowOrigins(app, options.corsOrigins ?? []);
  const v2 = { ...options, models: core.models };
  registerV2Routes(app, v2);
  registerRepositoryRoutes(app, { models: core.models });
  registerEndpointRoutes(app, { endpoints: core.endpoints });
  registerObservabilityRoutes(app, { log: options.log, models: core.models, metrics, predictions, drift });
  registerTfServingRoutes(app, v2);
  if (core.batch !== undefined) registerBatchRoutes(app, { batchJobs: core.batch.jobs, schedules: core.batch.schedules });
  if (core.storedPredictions !== undefined) registerPredictionRoutes(app, { predictionStore: core.storedPredictions, clock: core.clock });
}

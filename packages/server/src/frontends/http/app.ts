// The HTTP frontend: a Fastify app with the V2 and TF Serving routes, one error format, raw bodies (decoded
// by the protocol codecs, never by a generic JSON parser) and the draining gate.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { SibylError, isUnexpectedServerFault } from '@sibyl/protocol';
import type { Logger } from 'pino';
import { installBodyIntake, keepConnectionOfUnreadRefusal } from './body-intake.ts';
import { allowOrigins } from './cors.ts';
import { sendError, toHttpError } from './errors.ts';
import { limitOptions, type HttpLimits } from './http-limits.ts';
import { registerBatchRoutes, type BatchRouteDeps } from './batch-routes.ts';
import { registerEndpointRoutes, type EndpointRouteDeps } from './endpoint-routes.ts';
import { registerRepositoryRoutes } from './repository-routes.ts';
import { registerObservabilityRoutes, type ObservabilityRouteDeps } from './observability-routes.ts';
import { registerPredictionRoutes, type PredictionRouteDeps } from './prediction-routes.ts';
import { installAccessLog, installTracingHooks } from './tracing-hooks.ts';
import { registerTfServingRoutes } from './tfserving/tfserving-routes.ts';
import { registerV2Routes, type V2RouteDeps } from './v2-routes.ts';
import { UNTHROTTLED, type KeyedLineWriter } from '../../observability/logging/throttled-log.ts';
import type { Tracing } from '../../observability/tracing/tracing.ts';

export interface HttpAppOptions extends V2RouteDeps, EndpointRouteDeps, Omit<ObservabilityRouteDeps, 'log' | 'models'>, Partial<PredictionRouteDeps> {
  log: Logger;
  /** Rate-limits the lines a client can cause (failed requests); default: every line is written. */
  lineLimiter?: KeyedLineWriter;
  /** Body size, body budget, receive timeouts (see http-limits.ts). */
  limits: HttpLimits;
  /** True once shutdown began: every request but the liveness probe gets 503 SERVER_DRAINING. */
  isDraining: () => boolean;
  /** One log line per request (see installAccessLog). */
  accessLog?: boolean;
  tracing?: Tracing;
  /** Origins whose pages may call the API (CORS); `*` for any. */
  corsOrigins?: readonly string[];
  /** Batch jobs and schedules inside the server (/v1/batch/...). */
  batch?: BatchRouteDeps;
  /** Told when an inference request arrives, so batch jobs in the server give way. */
  onlineActivity?: { touch(nowMs: number): void };
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
  });

  // Bodies stay raw bytes, within the body limit and the shared body budget.
  const budget = installBodyIntake(app, options.limits);
  options.metrics?.watchBodyBudget(budget);

  // Callback-style hooks: an async hook costs a promise per request on the hot path.
  const activity = options.onlineActivity;
  app.addHook('onRequest', (request, reply, done) => {
    if (activity !== undefined && request.method === 'POST') activity.touch(performance.now());
    if (options.isDraining() && !ALWAYS_ANSWERED.has(request.routeOptions.url ?? '')) {
      sendError(reply, new SibylError('SERVER_DRAINING', 'the server is shutting down and takes no new requests; retry on another replica'), { ready: false });
      return;
    }
    done();
  });

  // While draining, every answer closes its connection (the request in flight as much as a 503),
  // so keep-alive clients reconnect elsewhere instead of sending into a closing socket.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (options.isDraining()) reply.header('connection', 'close');
    done(null, payload);
  });

  const lines = options.lineLimiter ?? UNTHROTTLED;
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

  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new SibylError('ROUTE_NOT_FOUND', `no endpoint for ${request.method} ${request.url.split('?')[0]}; see docs/reference/rest-api.md`)),
  );

  if (options.tracing !== undefined) installTracingHooks(app, options.tracing);
  if (options.accessLog === true) installAccessLog(app);
  allowOrigins(app, options.corsOrigins ?? []);
  registerV2Routes(app, options);
  registerRepositoryRoutes(app, options);
  registerEndpointRoutes(app, options);
  registerObservabilityRoutes(app, options);
  registerTfServingRoutes(app, options);
  if (options.batch !== undefined) registerBatchRoutes(app, options.batch);
  if (options.predictionStore !== undefined && options.clock !== undefined) registerPredictionRoutes(app, { predictionStore: options.predictionStore, clock: options.clock });
  return app;
}

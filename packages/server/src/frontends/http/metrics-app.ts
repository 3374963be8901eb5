// The separate metrics listener (`--metrics-port`): only GET /metrics, so that scrapers can be
// let in on a port that does not serve inference.
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { SibylMetrics } from '../../serving/frontend-vocabulary.ts';
import { limitOptions, type HttpLimits } from './http-limits.ts';
import { registerMetricsRoute } from './observability-routes.ts';

/** A scrape is one small GET: tight fixed bounds, so a slow client cannot hold the port (no body budget: no route here takes a body). */
const METRICS_LIMITS: Omit<HttpLimits, 'inflightBodyBytes'> = { bodyLimitBytes: 64 * 1024, headersTimeoutMs: 10_000, requestReceiveTimeoutMs: 10_000, keepAliveTimeoutMs: 72_000 };

/** `https`: TLS options (see HttpAppOptions.https); absent: plain HTTP. */
export function buildMetricsApp(metrics: SibylMetrics, log: Logger, https?: HttpsServerOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    disableRequestLogging: true,
    forceCloseConnections: true,
    ...limitOptions(METRICS_LIMITS),
    ...(https === undefined ? {} : { https }),
  }) as FastifyInstance;
  registerMetricsRoute(app, metrics);
  return app;
}

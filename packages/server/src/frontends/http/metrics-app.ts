// The separate metrics listener (`--metrics-port`): only GET /metrics, so that scrapers can be
// let in on a port that does not serve inference.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AccessControl, SibylMetrics } from '../../serving/frontend-vocabulary.ts';
import { installAccessHooks } from './access-hooks.ts';
import { limitOptions, type HttpLimits } from './http-limits.ts';
import { registerMetricsRoute } from './observability-routes.ts';

/** A scrape is one small GET: tight fixed bounds, so a slow client cannot hold the port (no body budget: no route here takes a body). */
const METRICS_LIMITS: Omit<HttpLimits, 'inflightBodyBytes'> = { bodyLimitBytes: 64 * 1024, headersTimeoutMs: 10_000, requestReceiveTimeoutMs: 10_000, keepAliveTimeoutMs: 72_000 };

/** With `access`, a scrape needs the `read` scope when authentication is on (the same rule as /metrics on the main port). */
export function buildMetricsApp(metrics: SibylMetrics, log: Logger, access?: AccessControl): FastifyInstance {
  const app = Fastify({ loggerInstance: log as FastifyBaseLogger, disableRequestLogging: true, forceCloseConnections: true, ...limitOptions(METRICS_LIMITS) });
  if (access !== undefined) installAccessHooks(app, access);
  registerMetricsRoute(app, metrics);
  return app;
}

// The separate metrics listener (`--metrics-port`): only GET /metrics, so that scrapers can be
// let in on a port that does not serve inference.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { SibylMetrics } from '../../observability/metrics/metrics.ts';
import { registerMetricsRoute } from './observability-routes.ts';

export function buildMetricsApp(metrics: SibylMetrics, log: Logger): FastifyInstance {
  const app = Fastify({ loggerInstance: log as FastifyBaseLogger, disableRequestLogging: true, forceCloseConnections: true });
  registerMetricsRoute(app, metrics);
  return app;
}

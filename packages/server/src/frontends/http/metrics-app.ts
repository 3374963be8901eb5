// The separate metrics listener (`--metrics-port`): only GET /metrics, so that scrapers can be
// let in on a port that does not serve inference.
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { UNTHROTTLED, type AccessControl, type KeyedLineWriter, type SibylMetrics } from '../../serving/frontend-vocabulary.ts';
import { installAccessHooks } from './access-hooks.ts';
import { installBrowserGuard } from './browser-guard.ts';
import { compileBrowserPolicy } from './browser-policy.ts';
import { limitOptions, type HttpLimits } from './http-limits.ts';
import { registerMetricsRoute } from './observability-routes.ts';

/** A scrape is one small GET: tight fixed bounds, so a slow client cannot hold the port (no body budget: no route here takes a body). */
const METRICS_LIMITS: Omit<HttpLimits, 'inflightBodyBytes'> = { bodyLimitBytes: 64 * 1024, headersTimeoutMs: 10_000, requestReceiveTimeoutMs: 10_000, keepAliveTimeoutMs: 72_000 };

export interface MetricsAppOptions {
  /** http.allowedHosts, checked here too: DNS rebinding could otherwise read the metrics. No Origin check: no route here changes anything. */
  allowedHosts?: readonly string[];
  /** Rate-limits the lines refused requests cause; default: every line is written. */
  lines?: KeyedLineWriter;
  /** TLS options (see HttpAppOptions.https); absent: plain HTTP. */
  https?: HttpsServerOptions;
  /** A scrape needs the `read` scope when authentication is on (the same rule as /metrics on the main port). */
  access?: AccessControl;
}

export function buildMetricsApp(metrics: SibylMetrics, log: Logger, options: MetricsAppOptions = {}): FastifyInstance {
  const https = options.https;
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    disableRequestLogging: true,
    forceCloseConnections: true,
    ...limitOptions(METRICS_LIMITS),
    ...(https === undefined ? {} : { https }),
  }) as FastifyInstance;
  installBrowserGuard(app, { policy: compileBrowserPolicy({ allowedHosts: options.allowedHosts }), exempt: new Set(), hostOnly: true, lines: options.lines ?? UNTHROTTLED });
  if (options.access !== undefined) installAccessHooks(app, options.access);
  registerMetricsRoute(app, metrics);
  return app;
}

// HTTP endpoints of observability: Prometheus metrics, the runtime log level, the prediction log
// and drift reports. Translation only: query strings ⇄ the observability parts' calls.
import { SibylError, type LogLevelJson, type PredictionLogJson } from '@sibyl/protocol';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { LOG_LEVELS, type DriftMonitor, type PredictionLogger, type SibylMetrics } from '../../serving/frontend-vocabulary.ts';
import type { ModelsApi } from '../../serving/serving-api.ts';
import { readJsonObject } from './json-body.ts';

export interface ObservabilityRouteDeps {
  log: Logger;
  models: ModelsApi;
  metrics?: SibylMetrics;
  predictions?: PredictionLogger;
  drift?: DriftMonitor;
}

/** Most records one GET /v1/models/{m}/predictions returns. */
export const MAX_PREDICTIONS_LIMIT = 10_000;

/** GET /metrics: the Prometheus text format. */
export function registerMetricsRoute(app: FastifyInstance, metrics: SibylMetrics): void {
  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await metrics.render();
    return reply.type(contentType).send(body);
  });
}

/** A time given as ms since the epoch or as an ISO 8601 date. @throws MALFORMED_REQUEST. */
function parseTime(name: string, text: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) throw new SibylError('MALFORMED_REQUEST', `query parameter ${name}=${JSON.stringify(text)} is not a time; expected milliseconds since the epoch or an ISO 8601 date (2026-01-31T12:00:00Z)`);
  return ms;
}

function parseLimit(text: string | undefined): number {
  if (text === undefined) return 100;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PREDICTIONS_LIMIT) {
    throw new SibylError('MALFORMED_REQUEST', `query parameter limit=${JSON.stringify(text)} is not allowed; expected an integer from 1 to ${MAX_PREDICTIONS_LIMIT}`);
  }
  return n;
}

export function registerObservabilityRoutes(app: FastifyInstance, deps: ObservabilityRouteDeps): void {
  if (deps.metrics !== undefined) registerMetricsRoute(app, deps.metrics);

  // The log level, changeable at runtime (like Triton's logging extension).
  app.get('/v2/logging', async (): Promise<LogLevelJson> => ({ level: deps.log.level as LogLevelJson['level'] }));
  app.post('/v2/logging', async (request): Promise<LogLevelJson> => {
    const level = readJsonObject(request, '{"level": "<level>"}')?.level;
    if (typeof level !== 'string' || !(LOG_LEVELS as readonly string[]).includes(level)) {
      throw new SibylError('MALFORMED_REQUEST', `expected a body {"level": "<level>"} with level one of ${LOG_LEVELS.join(', ')}`);
    }
    const before = deps.log.level;
    deps.log.level = level;
    deps.log.warn({ from: before, to: level }, `log level changed from ${before} to ${level}`);
    return { level: level as LogLevelJson['level'] };
  });

  app.get<{ Params: { model: string }; Querystring: Record<string, string | undefined> }>('/v1/models/:model/predictions', async (request): Promise<PredictionLogJson> => {
    const { model } = request.params;
    deps.models.status(model); // MODEL_NOT_FOUND for a model the repository does not have
    const q = request.query;
    const sinceMs = q.since === undefined ? 0 : parseTime('since', q.since);
    const untilMs = q.until === undefined ? undefined : parseTime('until', q.until);
    const limit = parseLimit(q.limit);
    const predictions = deps.predictions === undefined ? [] : await deps.predictions.query({ model, sinceMs, untilMs, version: q.version, limit });
    return { model, predictions };
  });

  app.get<{ Params: { model: string } }>('/v1/models/:model/drift', async (request) => {
    deps.models.status(request.params.model);
    if (deps.drift === undefined) throw new SibylError('MODEL_NOT_FOUND', 'drift monitoring is off');
    return deps.drift.report(request.params.model);
  });
}

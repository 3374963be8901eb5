// Request spans and access logs of the HTTP frontend. Installed only when on: with tracing and
// access logging off, no hook runs and requests carry nothing extra.
import type { Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Tracing } from '../../serving/frontend-vocabulary.ts';
import { principalOf } from './access-hooks.ts';

const SPAN = Symbol('sibyl.span');
type Traced = FastifyRequest & { [SPAN]?: Span };

/** The request's span, when tracing is on. */
export function requestSpan(request: FastifyRequest): Span | undefined {
  return (request as Traced)[SPAN];
}

/** A SERVER span per inference request (continuing a W3C traceparent), ended with its status. */
export function installTracingHooks(app: FastifyInstance, tracing: Tracing): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url;
    // V2 inference, and TF Serving's :predict (the same request span for both REST frontends).
    if (route !== undefined && (route.endsWith('/infer') || (route === '/v1/models/*' && request.method === 'POST' && request.url.includes(':predict')))) {
      const params = request.params as { model?: string; version?: string };
      (request as Traced)[SPAN] = tracing.startRequestSpan(`${request.method} ${route}`, request.headers, {
        'http.request.method': request.method,
        'http.route': route,
        'sibyl.model': params.model ?? '',
        'sibyl.request_id': request.id,
      });
    }
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = (request as Traced)[SPAN];
    if (span !== undefined) tracing.endRequestSpan(span, reply.statusCode);
    done();
  });
}

/** One info line per request, written after the response (pino's asynchronous destination). */
export function installAccessLog(app: FastifyInstance): void {
  app.addHook('onResponse', (request, reply, done) => {
    request.log.info({ method: request.method, url: request.url, statusCode: reply.statusCode, responseTimeMs: reply.elapsedTime, principal: principalOf(request)?.id }, 'request completed');
    done();
  });
}

// What each route and RPC needs (issue 15): the table of route → scope, pure. The frontends ask
// it once per request, after authentication, and refuse with 403 SCOPE_MISSING when
// core/scopes.ts's `allows` says no. Health probes are open; everything else needs a scope:
//   infer:<model or endpoint>  inference (V2, TF Serving :predict, gRPC ModelInfer and streams),
//                              A/B feedback and stored-prediction lookups of that name;
//   read                       metadata, model and endpoint lists and reports, statistics,
//                              metrics, the prediction log, drift, the log level, job listings;
//   batch:run                  start, resume and watch batch jobs;
//   admin                      load/unload, labels, endpoint changes and actions, state, the
//                              log level's change, job cancellation.
// The same table says which routes form the management plane (served on management.port when
// configured) and which are audited (management actions that change something).
import type { Scope } from '../core/scopes.ts';

export interface RouteAccess {
  /** undefined: open to everyone (health probes). */
  readonly scope: Scope | undefined;
  /** Part of the management plane (model control, endpoints, state, logging, batch, prediction log). */
  readonly management: boolean;
  /** A management action that changes something: recorded in the audit log. */
  readonly audited: boolean;
}

const OPEN: RouteAccess = { scope: undefined, management: false, audited: false };
const READ: RouteAccess = { scope: 'read', management: false, audited: false };
const MANAGE_READ: RouteAccess = { scope: 'read', management: true, audited: false };
const ADMIN_READ: RouteAccess = { scope: 'admin', management: true, audited: false };
const ADMIN: RouteAccess = { scope: 'admin', management: true, audited: true };
const BATCH_READ: RouteAccess = { scope: 'batch:run', management: true, audited: false };
const BATCH: RouteAccess = { scope: 'batch:run', management: true, audited: true };
/** A route no table entry names (unknown to the server): authentication is still required. */
export const UNKNOWN_ROUTE: RouteAccess = { scope: undefined, management: false, audited: false };

const infer = (name: string): RouteAccess => ({ scope: `infer:${name}`, management: false, audited: false });

/** Routes whose access does not depend on their parameters, by `METHOD pattern` (Fastify's route url). */
const FIXED: ReadonlyMap<string, RouteAccess> = new Map([
  ['GET /v2/health/live', OPEN],
  ['GET /v2/health/ready', OPEN],
  ['GET /v2', READ],
  ['GET /metrics', READ],
  ['GET /v2/models/stats', READ],
  ['GET /v1/models', READ],
  ['GET /v1/models/*', READ],
  ['POST /v2/repository/index', MANAGE_READ],
  ['POST /v2/repository/models/:model/load', ADMIN],
  ['POST /v2/repository/models/:model/unload', ADMIN],
  ['GET /v2/repository/models', MANAGE_READ],
  ['GET /v2/repository/models/:model', MANAGE_READ],
  ['GET /v2/repository/models/:model/labels', MANAGE_READ],
  ['PUT /v2/repository/models/:model/labels/:label', ADMIN],
  ['DELETE /v2/repository/models/:model/labels/:label', ADMIN],
  ['POST /v2/repository/models/:model/labels/:label/rollback', ADMIN],
  ['GET /v2/repository/state', ADMIN_READ],
  ['PUT /v2/repository/state', ADMIN],
  ['GET /v1/endpoints', MANAGE_READ],
  ['GET /v1/endpoints/:endpoint', MANAGE_READ],
  ['PUT /v1/endpoints/:endpoint', ADMIN],
  ['DELETE /v1/endpoints/:endpoint', ADMIN],
  ['POST /v1/endpoints/:endpoint/switch', ADMIN],
  ['GET /v2/logging', MANAGE_READ],
  ['POST /v2/logging', ADMIN],
  ['GET /v1/models/:model/predictions', MANAGE_READ],
  ['GET /v1/models/:model/drift', MANAGE_READ],
  ['POST /v1/batch/jobs', BATCH],
  ['GET /v1/batch/jobs', MANAGE_READ],
  ['GET /v1/batch/jobs/:id', BATCH_READ],
  ['POST /v1/batch/jobs/:id/resume', BATCH],
  ['POST /v1/batch/jobs/:id/cancel', ADMIN],
  ['GET /v1/batch/schedules', MANAGE_READ],
]);

/**
 * The access an HTTP request needs, from its method, its matched route pattern (undefined: no
 * route matched) and its path parameters.
 */
export function httpRouteAccess(method: string, route: string | undefined, params: Readonly<Record<string, string | undefined>>): RouteAccess {
  if (route === undefined) return UNKNOWN_ROUTE;
  if (method === 'HEAD') return httpRouteAccess('GET', route, params);
  // CORS preflights carry no credentials (browsers never send them) and run nothing.
  if (method === 'OPTIONS') return OPEN;
  const fixed = FIXED.get(`${method} ${route}`);
  if (fixed !== undefined) return fixed;
  if (method === 'POST') {
    if (route.endsWith('/infer')) return infer(params.model ?? '');
    if (route === '/v1/models/*') return infer(tfServingModel(params['*'] ?? ''));
    if (route === '/v1/endpoints/:endpoint/feedback' || route === '/v1/predictions/:model/lookup') return infer(params.endpoint ?? params.model ?? '');
    if (route.startsWith('/v1/endpoints/:endpoint/canary/')) return ADMIN;
  }
  if (method === 'GET') {
    if (route === '/v1/predictions/:model/:key') return infer(params.model ?? '');
    // Metadata, readiness, statistics and configuration of a model, version or label.
    if (route.startsWith('/v2/models/:model')) return READ;
  }
  // Routes this table does not know yet: the strictest scope.
  return { scope: 'admin', management: false, audited: false };
}

/** The model (or endpoint) a TF Serving path names: `m`, `m/versions/1:predict`, `m/labels/stable:predict`. */
function tfServingModel(path: string): string {
  const end = path.search(/[/:]/);
  return end < 0 ? path : path.slice(0, end);
}

/** The gRPC methods of inference.GRPCInferenceService and what each needs (inference needs infer:<model_name>, see grpcInferScope). */
const GRPC: ReadonlyMap<string, RouteAccess> = new Map([
  ['ServerLive', OPEN],
  ['ServerReady', OPEN],
  ['ServerMetadata', READ],
  ['ModelReady', READ],
  ['ModelMetadata', READ],
  ['ModelConfig', READ],
  ['ModelStatistics', READ],
  ['RepositoryIndex', MANAGE_READ],
  ['RepositoryModelLoad', ADMIN],
  ['RepositoryModelUnload', ADMIN],
]);

/** The access a unary gRPC method needs (ModelInfer and ModelStreamInfer: per message, grpcInferScope). Unknown: admin. */
export function grpcMethodAccess(method: string): RouteAccess {
  return GRPC.get(method) ?? { scope: 'admin', management: false, audited: false };
}

/** The scope one inference message needs. */
export function grpcInferScope(modelName: string | undefined): Scope {
  return `infer:${modelName ?? ''}`;
}

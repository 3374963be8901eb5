// Authentication, scopes, the management plane and the audit log on the HTTP frontend: one
// onRequest hook asks the route table (security/route-scopes.ts) what the request needs,
// authenticates it (security/authenticator.ts: the same as gRPC's), checks the scope, and keeps
// the principal on the request for the routes (their RequestContext) and the access log; one
// onResponse hook writes the audit record of a management action. Unknown routes need
// authentication too: a caller without credentials gets 401, never a 404 naming what exists.
import { SibylError } from '@sibyl/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { auditTarget, httpRouteAccess, requireScope, type AccessControl, type Principal, type RouteAccess } from '../../serving/frontend-vocabulary.ts';
import { sendError } from './errors.ts';

/** Which routes a listener serves: all (one listener), the data plane (the main port when management.port is set), or the management plane. */
export type Plane = 'all' | 'data' | 'management';

const PRINCIPAL = Symbol('sibyl.principal');
const ACCESS = Symbol('sibyl.access');
type Guarded = FastifyRequest & { [PRINCIPAL]?: Principal; [ACCESS]?: RouteAccess };

/** The authenticated caller of a request; undefined when authentication is off (or the route is open). */
export function principalOf(request: FastifyRequest): Principal | undefined {
  return (request as Guarded)[PRINCIPAL];
}

const header = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

function notFound(request: FastifyRequest): SibylError {
  return new SibylError('ROUTE_NOT_FOUND', `no endpoint for ${request.method} ${request.url.split('?')[0]}; see docs/reference/rest-api.md`);
}

function refuse(reply: FastifyReply, err: unknown): void {
  const error = err instanceof SibylError ? err : new SibylError('INTERNAL_ERROR', 'internal server error; the server log has the details', { cause: err });
  if (error.code === 'UNAUTHENTICATED') reply.header('www-authenticate', 'Bearer');
  void sendError(reply, error);
}

/**
 * `certificatePrincipal`: the caller a verified client certificate names (mTLS). With
 * authentication on, a request that carries no API key or token is admitted as that caller (its
 * scopes checked as any other's); credentials, when present, take precedence.
 */
export function installAccessHooks(app: FastifyInstance, access: AccessControl, plane: Plane = 'all', certificatePrincipal?: (socket: unknown) => Principal | undefined): void {
  const { authenticator, audit } = access;
  app.addHook('onRequest', (request, reply, done) => {
    const route = request.routeOptions.url;
    const needs = httpRouteAccess(request.method, route, request.params as Record<string, string | undefined>);
    (request as Guarded)[ACCESS] = needs;
    const open = route !== undefined && needs.scope === undefined;
    const wrongPlane = route !== undefined && !open && ((plane === 'data' && needs.management) || (plane === 'management' && !needs.management));
    // With authentication off, a verified client certificate (mTLS) still names the caller, and
    // its scopes are checked, as gRPC does.
    const certifiedWithoutAuth = !authenticator.enabled && !open ? certificatePrincipal?.(request.raw.socket) : undefined;
    if (!authenticator.enabled && certifiedWithoutAuth === undefined) return wrongPlane ? refuse(reply, notFound(request)) : done();
    if (open) return done();
    const admit = (principal: Principal | undefined): void => {
      (request as Guarded)[PRINCIPAL] = principal;
      if (route === undefined) return done(); // the not-found handler answers an authenticated caller
      // Authenticated first: a caller without credentials learns nothing, not even which port serves what.
      if (wrongPlane) return refuse(reply, notFound(request));
      try {
        requireScope(principal, needs.scope!);
      } catch (err) {
        return refuse(reply, err);
      }
      done();
    };
    if (certifiedWithoutAuth !== undefined) return admit(certifiedWithoutAuth);
    const authorization = header(request.headers.authorization);
    const apiKey = header(request.headers['x-api-key']);
    if (authorization === undefined && apiKey === undefined) {
      const certified = certificatePrincipal?.(request.raw.socket);
      if (certified !== undefined) return admit(certified);
    }
    let result;
    try {
      result = authenticator.authenticate({ authorization, apiKey });
    } catch (err) {
      return refuse(reply, err);
    }
    if (result instanceof Promise) result.then(admit, (err: unknown) => refuse(reply, err));
    else admit(result);
  });

  app.addHook('onResponse', (request, reply, done) => {
    const needs = (request as Guarded)[ACCESS];
    if (needs?.audited === true) {
      const principal = (request as Guarded)[PRINCIPAL];
      audit.record({
        time: new Date().toISOString(),
        principal: principal?.id ?? (authenticator.enabled ? 'unauthenticated' : 'anonymous'),
        entry: 'http',
        action: `${request.method} ${request.routeOptions.url ?? ''}`,
        target: auditTarget(request.params),
        status: reply.statusCode,
        requestId: request.id,
      });
    }
    done();
  });
}

// The GRPCInferenceService RPCs (proto/grpc_service.proto in @sibyl/protocol). Translation only:
// messages ⇄ core types; inference goes through InferenceService like every other frontend.
import type { sendUnaryData, ServerUnaryCall, UntypedServiceImplementation } from '@grpc/grpc-js';
import { checkName, SibylError, type GrpcModelInferRequest, type GrpcModelInferResponse } from '@sibyl/protocol';
import { CancelToken, auditTarget, grpcMethodAccess, requireScope, type Principal } from '../../serving/frontend-vocabulary.ts';
import { modelConfigOf, modelMetadataOf, statisticsOf } from '../descriptions.ts';
import { loadConfigParameter } from '../http/repository-routes.ts';
import { callPrincipal, drainingError, failWith, inferOne, type GrpcHandlerDeps } from './call.ts';
import { asSibylError } from './errors.ts';
import { remainingMs } from './deadline.ts';
import { checkDecoded } from './refused-message.ts';
import { modelStreamInfer } from './stream-infer.ts';

type NameVersion = { name?: string; version?: string };

interface RepositoryModelRequest {
  repository_name?: string;
  model_name?: string;
  parameters?: Record<string, { bool_param?: boolean; int64_param?: string; string_param?: string; bytes_param?: Uint8Array }>;
}

/** ModelRepositoryParameter map → the plain values the REST body carries. */
function repositoryParameters(map: RepositoryModelRequest['parameters']): Record<string, unknown> | undefined {
  if (map === undefined) return undefined;
  return Object.fromEntries(Object.entries(map).map(([key, p]) => [key, p.string_param ?? p.bool_param ?? p.int64_param ?? p.bytes_param]));
}

/**
 * A unary handler from an async function; errors become statuses; draining refuses calls. The
 * caller is authenticated and its scope checked first (security/route-scopes.ts says what each
 * method needs; ServerLive and ServerReady are open); management actions are audited.
 */
function unary<Req, Res>(deps: GrpcHandlerDeps, method: string, fn: (request: Req, call: ServerUnaryCall<Req, Res>, principal: Principal | undefined) => Promise<Res> | Res, duringDrain = false) {
  const needs = grpcMethodAccess(method);
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    if (!duringDrain && deps.isDraining()) {
      callback(failWith(deps, method, drainingError()));
      return;
    }
    let principal: Principal | undefined;
    Promise.resolve()
      .then(() => (needs.scope === undefined ? undefined : callPrincipal(deps, call.metadata, call.getAuthContext()?.sslPeerCertificate)))
      .then((caller) => {
        principal = caller;
        if (needs.scope !== undefined) requireScope(principal, needs.scope);
        checkDecoded(call.request);
        return fn(call.request, call, principal);
      })
      .then(
        (response) => {
          if (needs.audited) audit(deps, method, principal, call.request, undefined);
          callback(null, response);
        },
        (err: unknown) => {
          if (needs.audited) audit(deps, method, principal, call.request, err);
          callback(failWith(deps, method, err));
        },
      );
  };
}

/** The audit record of a management call: who, which method, on which model, and how it ended. */
function audit(deps: GrpcHandlerDeps, method: string, principal: Principal | undefined, request: unknown, err: unknown): void {
  if (deps.access === undefined) return;
  const error = err === undefined ? undefined : asSibylError(err);
  const { model_name: model } = (request ?? {}) as { model_name?: unknown };
  deps.access.audit.record({
    time: new Date().toISOString(),
    principal: principal?.id ?? (deps.access.authenticator.enabled ? 'unauthenticated' : 'anonymous'),
    entry: 'grpc',
    action: method,
    target: auditTarget({ model }),
    status: error === undefined ? 200 : error.httpStatus,
    reason: error?.reason,
  });
}

/** An unknown model, version or label. */
function isAbsent(err: unknown): boolean {
  return err instanceof SibylError && err.code === 'NOT_FOUND';
}

/** `name`, which `field` (e.g. ModelReadyRequest.name) must not leave empty. */
function requireName(name: string | undefined, field: string): string {
  if (name === undefined || name === '') throw new SibylError('MALFORMED_REQUEST', `${field} is empty; expected the name of a model`);
  return checkName(name, 'model', field);
}

/** The model and version a name (model or endpoint) and version (or label) stand for. */
function targetOf(deps: GrpcHandlerDeps, message: string, request: NameVersion) {
  return deps.core.targetOf(requireName(request.name, `${message}.name`), { version: request.version });
}

/** The version a request names, loaded on demand. */
function acquire(deps: GrpcHandlerDeps, message: string, request: NameVersion) {
  const target = targetOf(deps, message, request);
  return deps.models.acquire(target.model, target.selector);
}

export { type GrpcHandlerDeps } from './call.ts';

export function inferenceHandlers(deps: GrpcHandlerDeps): UntypedServiceImplementation {
  return {
    ServerLive: unary(deps, 'ServerLive', () => ({ live: true }), true),
    ServerReady: unary(deps, 'ServerReady', () => ({ ready: deps.isReady() }), true),
    ServerMetadata: unary(deps, 'ServerMetadata', () => ({ name: deps.serverName, version: deps.serverVersion, extensions: [...deps.extensions] })),

    // Ready when a request would be answered (READY, or loads on demand). As Triton: a model
    // that is unknown, lacks the version or is not ready is `ready: false`, not an error.
    ModelReady: unary<NameVersion, { ready: boolean }>(deps, 'ModelReady', (request) => {
      try {
        const target = targetOf(deps, 'ModelReadyRequest', request);
        return { ready: deps.models.readiness(target.model, target.selector).ready };
      } catch (err) {
        if (isAbsent(err)) return { ready: false };
        throw err;
      }
    }),

    ModelMetadata: unary<NameVersion, unknown>(deps, 'ModelMetadata', async (request) => modelMetadataOf(deps.models, await acquire(deps, 'ModelMetadataRequest', request), request.name)),
    ModelConfig: unary<NameVersion, unknown>(deps, 'ModelConfig', async (request) => ({ config: modelConfigOf(await acquire(deps, 'ModelConfigRequest', request)) })),

    // Every READY version, or the one the request names.
    ModelStatistics: unary<NameVersion, unknown>(deps, 'ModelStatistics', (request) => {
      if (request.name === undefined || request.name === '') return { model_stats: deps.models.servedVersions().map(statisticsOf) };
      return { model_stats: [statisticsOf(deps.models.resolve(checkName(request.name, 'model', 'ModelStatisticsRequest.name'), { version: request.version }))] };
    }),

    RepositoryIndex: unary<{ repository_name?: string; ready?: boolean }, unknown>(deps, 'RepositoryIndex', (request) => {
      checkRepository(request.repository_name);
      const rows = deps.models.index();
      return { models: request.ready === true ? rows.filter((r) => r.state === 'READY') : rows };
    }),

    // Explicit model control, as over REST: the `config` parameter (a model config as JSON)
    // replaces config.yaml; model files in parameters are refused.
    RepositoryModelLoad: unary<RepositoryModelRequest, object>(deps, 'RepositoryModelLoad', async (request, _call, principal) => {
      checkRepository(request.repository_name);
      const config = loadConfigParameter({ parameters: repositoryParameters(request.parameters) });
      // The caller's scopes decide whether the override may raise the prediction log's exposure.
      await deps.models.control.load(requireName(request.model_name, 'RepositoryModelLoadRequest.model_name'), { config, principal });
      return {};
    }),

    RepositoryModelUnload: unary<RepositoryModelRequest, object>(deps, 'RepositoryModelUnload', async (request) => {
      checkRepository(request.repository_name);
      await deps.models.control.unload(requireName(request.model_name, 'RepositoryModelUnloadRequest.model_name'));
      return {};
    }),

    ModelInfer: (call: ServerUnaryCall<GrpcModelInferRequest, GrpcModelInferResponse>, callback: sendUnaryData<GrpcModelInferResponse>): void => {
      const arrivalMs = deps.core.clock.now();
      // A client that cancels (or whose deadline passes) has its queued request dropped.
      const cancel = new CancelToken();
      call.once('cancelled', () => cancel.cancel());
      const run = (principal: Principal | undefined) =>
        inferOne(deps, call.request, { arrivalMs, remainingMs: remainingMs(call.getDeadline(), Date.now()), cancel, metadata: call.metadata, principal });
      let answer: Promise<GrpcModelInferResponse>;
      try {
        // API keys answer synchronously: no extra promise on the hot path.
        const principal = callPrincipal(deps, call.metadata, call.getAuthContext()?.sslPeerCertificate);
        answer = principal instanceof Promise ? principal.then(run) : run(principal);
      } catch (err) {
        answer = Promise.reject(err as Error);
      }
      answer.then(
        (response) => callback(null, response),
        (err: unknown) => callback(failWith(deps, 'ModelInfer', err)),
      );
    },

    ModelStreamInfer: modelStreamInfer(deps),
  };
}

/** Sibyl serves one repository, named by the empty string. */
function checkRepository(name: string | undefined): void {
  if (name !== undefined && name !== '') {
    throw new SibylError('NOT_SUPPORTED', `repository_name is '${name}'; this server has one model repository: leave repository_name empty`);
  }
}

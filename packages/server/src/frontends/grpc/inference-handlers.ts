// The GRPCInferenceService RPCs (proto/grpc_service.proto in @sibyl/protocol). Translation only:
// messages ⇄ core types; inference goes through InferenceService like every other frontend.
import type { sendUnaryData, ServerUnaryCall, UntypedServiceImplementation } from '@grpc/grpc-js';
import { SibylError, type GrpcModelInferRequest, type GrpcModelInferResponse } from '@sibyl/protocol';
import { CancelToken } from '../../core/cancellation.ts';
import { modelConfigOf, modelMetadataOf, statisticsOf } from '../descriptions.ts';
import { loadModel, unloadModel, versionOf } from '../model-control.ts';
import { drainingError, failWith, inferOne, type GrpcHandlerDeps } from './call.ts';
import { remainingMs } from './deadline.ts';
import { modelStreamInfer } from './stream-infer.ts';

type NameVersion = { name?: string; version?: string };

/** A unary handler from an async function; errors become statuses; draining refuses calls. */
function unary<Req, Res>(deps: GrpcHandlerDeps, method: string, fn: (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res> | Res, duringDrain = false) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    if (!duringDrain && deps.isDraining()) {
      callback(failWith(deps, method, drainingError()));
      return;
    }
    Promise.resolve()
      .then(() => fn(call.request, call))
      .then(
        (response) => callback(null, response),
        (err: unknown) => callback(failWith(deps, method, err)),
      );
  };
}

function isAbsent(err: unknown): boolean {
  return err instanceof SibylError && (err.reason === 'MODEL_NOT_READY' || err.reason === 'MODEL_NOT_FOUND' || err.reason === 'VERSION_NOT_FOUND');
}

function requireName(name: string | undefined, message: string): string {
  if (name === undefined || name === '') throw new SibylError('MALFORMED_REQUEST', `${message}.name is empty; expected the name of a model`);
  return name;
}

function resolve(deps: GrpcHandlerDeps, message: string, request: NameVersion) {
  const name = requireName(request.name, message);
  return deps.models.resolve(name, versionOf(deps.models, name, { version: request.version }));
}

export { type GrpcHandlerDeps } from './call.ts';

export function inferenceHandlers(deps: GrpcHandlerDeps): UntypedServiceImplementation {
  return {
    ServerLive: unary(deps, 'ServerLive', () => ({ live: true }), true),
    ServerReady: unary(deps, 'ServerReady', () => ({ ready: deps.isReady() })),
    ServerMetadata: unary(deps, 'ServerMetadata', () => ({ name: deps.serverName, version: deps.serverVersion, extensions: [...deps.extensions] })),

    // As Triton: a model that is unknown, absent or not ready is `ready: false`, not an error.
    ModelReady: unary<NameVersion, { ready: boolean }>(deps, 'ModelReady', (request) => {
      try {
        resolve(deps, 'ModelReadyRequest', request);
        return { ready: true };
      } catch (err) {
        if (isAbsent(err)) return { ready: false };
        throw err;
      }
    }),

    ModelMetadata: unary<NameVersion, unknown>(deps, 'ModelMetadata', (request) => modelMetadataOf(deps.models, resolve(deps, 'ModelMetadataRequest', request))),
    ModelConfig: unary<NameVersion, unknown>(deps, 'ModelConfig', (request) => ({ config: modelConfigOf(resolve(deps, 'ModelConfigRequest', request)) })),

    ModelStatistics: unary<NameVersion, unknown>(deps, 'ModelStatistics', (request) => {
      if (request.name === undefined || request.name === '') {
        return { model_stats: deps.models.list().flatMap((m) => (m.served?.ready ? [statisticsOf(m.served)] : [])) };
      }
      return { model_stats: [statisticsOf(resolve(deps, 'ModelStatisticsRequest', request))] };
    }),

    RepositoryIndex: unary<{ repository_name?: string; ready?: boolean }, unknown>(deps, 'RepositoryIndex', (request) => {
      checkRepository(request.repository_name);
      const rows = deps.models.index();
      return { models: request.ready === true ? rows.filter((r) => r.state === 'READY') : rows };
    }),

    RepositoryModelLoad: unary<{ repository_name?: string; model_name?: string }, object>(deps, 'RepositoryModelLoad', async (request) => {
      checkRepository(request.repository_name);
      await loadModel(deps.models, requireName(request.model_name, 'RepositoryModelLoadRequest.model_'));
      return {};
    }),

    RepositoryModelUnload: unary<{ repository_name?: string; model_name?: string }, object>(deps, 'RepositoryModelUnload', async (request) => {
      checkRepository(request.repository_name);
      await unloadModel(deps.models, requireName(request.model_name, 'RepositoryModelUnloadRequest.model_'));
      return {};
    }),

    ModelInfer: (call: ServerUnaryCall<GrpcModelInferRequest, GrpcModelInferResponse>, callback: sendUnaryData<GrpcModelInferResponse>): void => {
      if (deps.isDraining()) {
        callback(failWith(deps, 'ModelInfer', drainingError()));
        return;
      }
      // A client that cancels (or whose deadline passes) has its queued request dropped.
      const cancel = new CancelToken();
      call.once('cancelled', () => cancel.cancel());
      inferOne(deps, call.request, remainingMs(call.getDeadline(), Date.now()), cancel).then(
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

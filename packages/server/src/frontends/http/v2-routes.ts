// Open Inference Protocol (KServe V2) REST endpoints, with Triton's binary tensor data and
// model repository (index) extensions. Translation only: wire ⇄ core types, nothing else.
// Spec: https://kserve.github.io/website/latest/modelserving/data_plane/v2_protocol/
import {
  SibylError,
  binaryOutputSelector,
  decodeInferRequest,
  decodeInferRequestBinary,
  decodeRawInferRequest,
  encodeInferResponse,
  encodeInferResponseBinary,
  type InferRequest,
  type ModelMetadata,
  type ServerMetadata,
} from '@sibyl/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext, VersionSelector } from '../../serving/frontend-vocabulary.ts';
import type { ModelsApi, ServingApi } from '../../serving/serving-api.ts';
import { releaseBody } from './body-intake.ts';
import { unwatchConnection, watchConnection } from './connection-watch.ts';
import { modelConfigOf, modelMetadataOf, statisticsOf } from '../descriptions.ts';
import { sendError } from './errors.ts';
import { arrivalOf } from './arrival-clock.ts';
import { principalOf } from './access-hooks.ts';
import { requestSpan } from './tracing-hooks.ts';

export interface V2RouteDeps {
  /** The serving core: names are endpoints or models; its infer() is the one request path. */
  core: ServingApi;
  /** The core's model control and status (core.models). */
  models: ModelsApi;
  serverName: string;
  serverVersion: string;
  /** False while starting (models loading) and while draining. */
  isReady: () => boolean;
  /** Why the server is not ready (only asked while it is starting), for the health body. */
  notReadyReason: () => string;
}

type ModelParams = { model: string; version?: string; label?: string };

/**
 * Extensions of the protocol this server implements, advertised by GET /v2. `model_labels` is
 * Sibyl's: `/v2/models/{m}/labels/{l}/…` paths, and a label name where a version goes.
 */
export const V2_EXTENSIONS = ['binary_tensor_data', 'statistics', 'schedule_policy', 'classification', 'model_repository', 'model_labels', 'model_configuration'];

/** The version or label a request's path addresses. */
const selectorOf = (params: ModelParams): VersionSelector => ({ version: params.version, label: params.label });

const HEADER_LENGTH = 'inference-header-content-length';

/** The request body decoded; a promise only for raw binary bodies (they need the model's signature). */
function decodeBody(request: FastifyRequest<{ Params: ModelParams }>, deps: V2RouteDeps): InferRequest | Promise<InferRequest> {
  const body = request.body as Buffer | undefined;
  if (body === undefined || body.length === 0) throw new SibylError('MALFORMED_REQUEST', 'request body is empty; expected a JSON inference request');
  const header = request.headers[HEADER_LENGTH];
  // Hybrid endpoints answer by key: their requests may carry no inputs.
  const options = { allowNoInputs: deps.core.answersByKey(request.params.model, selectorOf(request.params)), elementLimits: deps.core.limits };
  if (header === undefined) return decodeInferRequest(body, undefined, options);
  const headerLength = Number(header);
  if (!Number.isInteger(headerLength) || headerLength < 0 || headerLength > body.length) {
    throw new SibylError(
      'MALFORMED_REQUEST',
      `header Inference-Header-Content-Length is ${JSON.stringify(header)}; expected the byte length of the JSON header, an integer from 0 to the body length (${body.length})`,
    );
  }
  if (headerLength > 0) return decodeInferRequestBinary(body, headerLength, options);
  return decodeRawBody(request, body, deps);
}

/** Raw binary mode: the body is the only input's bytes. */
async function decodeRawBody(request: FastifyRequest<{ Params: ModelParams }>, body: Buffer, deps: V2RouteDeps): Promise<InferRequest> {
  const target = deps.core.targetOf(request.params.model, selectorOf(request.params));
  const { signature } = await deps.models.acquire(target.model, target.selector);
  if (signature.inputs.length !== 1) {
    throw new SibylError('MALFORMED_REQUEST', `raw binary requests (Inference-Header-Content-Length: 0) need a model with one input; '${request.params.model}' has ${signature.inputs.length}`);
  }
  const input = signature.inputs[0]!;
  return decodeRawInferRequest(body, input, { batched: signature.maxBatchSize > 0 });
}

async function infer(request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply, deps: V2RouteDeps): Promise<FastifyReply> {
  // A client that goes away before its answer has its queued request dropped.
  const gone = watchConnection(request);
  const context = deps.core.newContext('http', {
    requestId: request.id,
    arrivalMs: arrivalOf(request, deps.core.clock.now()),
    signal: gone,
    header: (name) => headerText(request.headers[name]),
    trace: requestSpan(request),
    // The caller the access hook admitted: by its credentials, or its verified client certificate (mTLS).
    principal: principalOf(request),
  });
  try {
    return await answer(request, reply, deps, context);
  } finally {
    unwatchConnection(request, gone);
  }
}

async function answer(request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply, deps: V2RouteDeps, context: RequestContext): Promise<FastifyReply> {
  let inferRequest: InferRequest;
  try {
    const decoded = decodeBody(request, deps);
    inferRequest = decoded instanceof Promise ? await decoded : decoded;
    releaseBody(request);
  } catch (err) {
    if (err instanceof SibylError) deps.core.rejected(request.params.model, selectorOf(request.params), err, context);
    throw err;
  }
  const response = await deps.core.infer(request.params.model, selectorOf(request.params), inferRequest, context);
  const isBinary = binaryOutputSelector(inferRequest);
  if (response.outputs.some((o) => isBinary(o.name))) {
    const { body, headerLength } = encodeInferResponseBinary(response, isBinary);
    return reply
      .header('Inference-Header-Content-Length', headerLength)
      .type('application/octet-stream')
      .send(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  }
  return reply.type('application/json').send(encodeInferResponse(response));
}

/** A header's value (the first, when repeated). */
const headerText = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/** Metadata of a model, or of the model an endpoint stands for (named as the endpoint). */
async function metadata(params: ModelParams, deps: V2RouteDeps): Promise<ModelMetadata> {
  const target = deps.core.targetOf(params.model, selectorOf(params));
  return modelMetadataOf(deps.models, await deps.models.acquire(target.model, target.selector), params.model);
}

/** Ready means a request would be answered: the version is READY, or loads on demand. */
function modelReady(request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply, deps: V2RouteDeps): FastifyReply {
  const { model } = request.params;
  const target = deps.core.targetOf(model, selectorOf(request.params));
  const readiness = deps.models.readiness(target.model, target.selector);
  if (readiness.ready) return reply.send({ name: model, ready: true });
  const err = readiness.error;
  return sendError(reply, err, { name: model, ready: false, state: err.details?.state, reason_detail: err.details?.reason });
}

export function registerV2Routes(app: FastifyInstance, deps: V2RouteDeps): void {
  const serverMetadata: ServerMetadata = { name: deps.serverName, version: deps.serverVersion, extensions: V2_EXTENSIONS };

  app.get('/v2', async () => serverMetadata);
  app.get('/v2/health/live', async () => ({ live: true }));
  app.get('/v2/health/ready', async (_request, reply) => {
    if (deps.isReady()) {
      const degraded = deps.core.degradedComponents();
      if (degraded.length === 0) return { ready: true };
      return { ready: true, degraded: degraded.map((d) => ({ component: d.component, reason: d.reason, since: new Date(d.sinceMs).toISOString() })) };
    }
    return sendError(reply, new SibylError('SERVER_STARTING', deps.notReadyReason()), { ready: false });
  });

  // A model, one of its versions, or one of its labels (Sibyl's model_labels extension); a label
  // name may also stand where a version goes.
  for (const prefix of ['/v2/models/:model', '/v2/models/:model/versions/:version', '/v2/models/:model/labels/:label']) {
    app.get<{ Params: ModelParams }>(prefix, async (request) => metadata(request.params, deps));
    app.get<{ Params: ModelParams }>(`${prefix}/ready`, async (request, reply) => modelReady(request, reply, deps));
    app.post<{ Params: ModelParams }>(`${prefix}/infer`, (request, reply) => infer(request, reply, deps));
  }

  // Triton's statistics extension: every READY version, or the one a path addresses.
  app.get('/v2/models/stats', async () => ({ model_stats: deps.models.servedVersions().map(statisticsOf) }));
  for (const prefix of ['/v2/models/:model', '/v2/models/:model/versions/:version', '/v2/models/:model/labels/:label']) {
    app.get<{ Params: ModelParams }>(`${prefix}/stats`, async (request) => ({ model_stats: [statisticsOf(deps.models.resolve(request.params.model, selectorOf(request.params)))] }));
    // Triton's model configuration extension.
    app.get<{ Params: ModelParams }>(`${prefix}/config`, async (request) => {
      const target = deps.core.targetOf(request.params.model, selectorOf(request.params));
      return modelConfigOf(await deps.models.acquire(target.model, target.selector));
    });
  }
}

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
import type { ModelManager } from '../../models/model-manager.ts';
import type { ServedVersion } from '../../models/served-version.ts';
import type { Duration } from '../../scheduling/statistics.ts';
import type { InferenceService } from '../../routing/inference-service.ts';
import { unwatchConnection, watchConnection } from './connection-watch.ts';
import { sendError } from './errors.ts';

export interface V2RouteDeps {
  models: ModelManager;
  inference: InferenceService;
  serverName: string;
  serverVersion: string;
  /** False while starting (models loading) and while draining. */
  isReady: () => boolean;
  /** Why the server is not ready (only asked while it is starting), for the health body. */
  notReadyReason: () => string;
}

type ModelParams = { model: string; version?: string };

/** Extensions of the protocol this server implements, advertised by GET /v2. */
export const V2_EXTENSIONS = ['binary_tensor_data', 'statistics', 'schedule_policy', 'classification'];

const HEADER_LENGTH = 'inference-header-content-length';

function decodeBody(request: FastifyRequest<{ Params: ModelParams }>, deps: V2RouteDeps): InferRequest {
  const body = request.body as Buffer | undefined;
  if (body === undefined || body.length === 0) throw new SibylError('MALFORMED_REQUEST', 'request body is empty; expected a JSON inference request');
  const header = request.headers[HEADER_LENGTH];
  if (header === undefined) return decodeInferRequest(body);
  const headerLength = Number(header);
  if (!Number.isInteger(headerLength) || headerLength < 0 || headerLength > body.length) {
    throw new SibylError(
      'MALFORMED_REQUEST',
      `header Inference-Header-Content-Length is ${JSON.stringify(header)}; expected the byte length of the JSON header, an integer from 0 to the body length (${body.length})`,
    );
  }
  if (headerLength > 0) return decodeInferRequestBinary(body, headerLength);
  // Raw binary mode: the body is the only input's bytes.
  const { signature } = deps.inference.target(request.params.model, request.params.version);
  if (signature.inputs.length !== 1) {
    throw new SibylError('MALFORMED_REQUEST', `raw binary requests (Inference-Header-Content-Length: 0) need a model with one input; '${request.params.model}' has ${signature.inputs.length}`);
  }
  const input = signature.inputs[0]!;
  return decodeRawInferRequest(body, input, { batched: signature.maxBatchSize > 0 });
}

async function infer(request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply, deps: V2RouteDeps): Promise<FastifyReply> {
  const inferRequest = decodeBody(request, deps);
  // A client that goes away before its answer has its queued request dropped.
  const gone = watchConnection(request);
  let response;
  try {
    response = await deps.inference.infer(request.params.model, request.params.version, inferRequest, gone);
  } finally {
    unwatchConnection(request, gone);
  }
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

function metadata(params: ModelParams, deps: V2RouteDeps): ModelMetadata {
  const status = deps.models.status(params.model);
  const served = deps.models.resolve(params.model, params.version);
  return {
    name: status.name,
    versions: status.versions.map((v) => String(v.version)),
    platform: served.platform,
    inputs: served.signature.inputs,
    outputs: served.signature.outputs,
  };
}

function modelReady(request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply, deps: V2RouteDeps): FastifyReply {
  const { model, version } = request.params;
  try {
    deps.models.resolve(model, version);
    return reply.send({ name: model, ready: true });
  } catch (err) {
    if (!(err instanceof SibylError) || err.reason !== 'MODEL_NOT_READY') throw err;
    return sendError(reply, err, { name: model, ready: false, state: err.details?.state, reason_detail: err.details?.reason });
  }
}

export function registerV2Routes(app: FastifyInstance, deps: V2RouteDeps): void {
  const serverMetadata: ServerMetadata = { name: deps.serverName, version: deps.serverVersion, extensions: V2_EXTENSIONS };

  app.get('/v2', async () => serverMetadata);
  app.get('/v2/health/live', async () => ({ live: true }));
  app.get('/v2/health/ready', async (_request, reply) => {
    if (deps.isReady()) return { ready: true };
    return sendError(reply, new SibylError('SERVER_STARTING', deps.notReadyReason()), { ready: false });
  });

  app.get<{ Params: ModelParams }>('/v2/models/:model', async (request) => metadata(request.params, deps));
  app.get<{ Params: ModelParams }>('/v2/models/:model/versions/:version', async (request) => metadata(request.params, deps));
  app.get<{ Params: ModelParams }>('/v2/models/:model/ready', async (request, reply) => modelReady(request, reply, deps));
  app.get<{ Params: ModelParams }>('/v2/models/:model/versions/:version/ready', async (request, reply) => modelReady(request, reply, deps));
  app.post<{ Params: ModelParams }>('/v2/models/:model/infer', (request, reply) => infer(request, reply, deps));
  app.post<{ Params: ModelParams }>('/v2/models/:model/versions/:version/infer', (request, reply) => infer(request, reply, deps));

  // Triton's statistics extension.
  app.get('/v2/models/stats', async () => ({ model_stats: deps.models.list().flatMap((m) => (m.served?.ready ? [statisticsOf(m.served)] : [])) }));
  app.get<{ Params: ModelParams }>('/v2/models/:model/stats', async (request) => ({ model_stats: [statisticsOf(deps.models.resolve(request.params.model))] }));
  app.get<{ Params: ModelParams }>('/v2/models/:model/versions/:version/stats', async (request) => ({
    model_stats: [statisticsOf(deps.models.resolve(request.params.model, request.params.version))],
  }));

  // Triton's model repository extension, read-only for now: every version with state and reason.
  app.post('/v2/repository/index', async (request) => {
    const body = request.body as Buffer | undefined;
    let readyOnly = false;
    if (body !== undefined && body.length > 0) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch (err) {
        throw new SibylError('MALFORMED_REQUEST', `request body is not valid JSON: ${(err as Error).message}; expected {"ready": true|false} or nothing`);
      }
      const ready = (parsed as { ready?: unknown } | null)?.ready;
      if (ready !== undefined && typeof ready !== 'boolean') throw new SibylError('MALFORMED_REQUEST', `"ready" is ${JSON.stringify(ready)}; expected true or false`);
      readyOnly = ready === true;
    }
    const rows = deps.models.index();
    return readyOnly ? rows.filter((r) => r.state === 'READY') : rows;
  });
}

const durationJson = (d: Duration) => ({ count: d.count, ns: d.ns });

/** One `model_stats` entry of Triton's statistics extension. */
function statisticsOf(served: ServedVersion): Record<string, unknown> {
  const s = served.statistics;
  return {
    name: served.name,
    version: String(served.version),
    last_inference: s.lastInferenceMs,
    inference_count: s.inferenceCount,
    execution_count: s.executionCount,
    inference_stats: {
      success: durationJson(s.success),
      fail: durationJson(s.fail),
      queue: durationJson(s.queue),
      compute_input: durationJson(s.computeInput),
      compute_infer: durationJson(s.computeInfer),
      compute_output: durationJson(s.computeOutput),
      cache_hit: { count: 0, ns: 0 },
      cache_miss: { count: 0, ns: 0 },
    },
    batch_stats: s.batchStatistics().map((b) => ({
      batch_size: b.batchSize,
      compute_input: durationJson(b.computeInput),
      compute_infer: durationJson(b.computeInfer),
      compute_output: durationJson(b.computeOutput),
    })),
  };
}

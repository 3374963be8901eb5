// TensorFlow Serving's REST API (and KServe V1's model list): model status, model metadata and
// `:predict`, for a model, a numbered version or a labelled one. Translation only; inference
// goes through InferenceService like every other frontend. Errors are `{"error": "…"}` (with
// Sibyl's code and reason) and the shared HTTP statuses.
// Spec: https://www.tensorflow.org/tfx/serving/api_rest
import { checkName, SibylError, parseJsonExact, type Datatype, type TensorMetadata } from '@sibyl/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ModelState, VersionSelector } from '../../../serving/frontend-vocabulary.ts';
import { arrivalOf } from '../arrival-clock.ts';
import { releaseBody } from '../body-intake.ts';
import { principalOf } from '../access-hooks.ts';
import { requestSpan } from '../tracing-hooks.ts';
import { unwatchConnection, watchConnection } from '../connection-watch.ts';
import type { V2RouteDeps } from '../v2-routes.ts';
import { decodePredictRequest, encodePredictResponse } from './predict-codec.ts';

/** A header's value (the first, when repeated). */
const headerText = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

interface Target {
  model: string;
  selector: VersionSelector;
}

const TF_DTYPE: Record<Datatype, string> = {
  BOOL: 'DT_BOOL',
  UINT8: 'DT_UINT8',
  UINT16: 'DT_UINT16',
  UINT32: 'DT_UINT32',
  UINT64: 'DT_UINT64',
  INT8: 'DT_INT8',
  INT16: 'DT_INT16',
  INT32: 'DT_INT32',
  INT64: 'DT_INT64',
  FP16: 'DT_HALF',
  BF16: 'DT_BFLOAT16',
  FP32: 'DT_FLOAT',
  FP64: 'DT_DOUBLE',
  BYTES: 'DT_STRING',
};

const TF_STATE: Record<ModelState, string> = { LOADING: 'LOADING', READY: 'AVAILABLE', UNLOADING: 'UNLOADING', UNAVAILABLE: 'END' };

const USAGE = '/v1/models/{model}[/versions/{version}|/labels/{label}][/metadata], or POST …:predict';

/** `{model}[/versions/{v}|/labels/{l}]` → model and selector. @throws ROUTE_NOT_FOUND, NAME_INVALID. */
function parseTarget(path: string, method: string): Target {
  const parts = path.split('/');
  const model = parts[0] ?? '';
  if (model !== '') checkName(model, 'model', 'in the path');
  if (model !== '' && parts.length === 1) return { model, selector: {} };
  if (model !== '' && parts.length === 3 && parts[2] !== '') {
    if (parts[1] === 'versions') return { model, selector: { version: checkName(parts[2], 'version', 'in the path') } };
    if (parts[1] === 'labels') return { model, selector: { label: checkName(parts[2], 'label', 'in the path') } };
  }
  throw new SibylError('ROUTE_NOT_FOUND', `no endpoint for ${method} /v1/models/${path}; expected ${USAGE}`);
}

function tensorInfo(list: readonly TensorMetadata[]): Record<string, unknown> {
  return Object.fromEntries(
    list.map((t) => [t.name, { dtype: TF_DTYPE[t.datatype], tensor_shape: { dim: t.shape.map((d) => ({ size: String(d), name: '' })), unknown_rank: false }, name: t.name }]),
  );
}

function status(deps: V2RouteDeps, target: Target): unknown {
  const routed = deps.core.targetOf(target.model, target.selector);
  const model = deps.models.status(routed.model);
  const { selector } = routed;
  // A numbered version or a label is found through the model's routing (VERSION_NOT_FOUND, LABEL_NOT_FOUND).
  const version = selector.version === undefined && selector.label === undefined ? undefined : deps.models.selectedVersion(routed.model, selector);
  const shown = version === undefined ? model.versions : model.versions.filter((v) => v.version === version);
  return {
    model_version_status: shown.map((v) => ({
      version: String(v.version),
      state: TF_STATE[v.state],
      status: { error_code: v.state === 'UNAVAILABLE' && v.reason !== '' ? 'UNAVAILABLE' : 'OK', error_message: v.reason },
    })),
  };
}

async function metadata(deps: V2RouteDeps, target: Target): Promise<unknown> {
  const routed = deps.core.targetOf(target.model, target.selector);
  const served = await deps.models.acquire(routed.model, routed.selector);
  return {
    model_spec: { name: target.model, signature_name: '', version: String(served.version) },
    metadata: {
      signature_def: {
        signature_def: {
          serving_default: { inputs: tensorInfo(served.signature.inputs), outputs: tensorInfo(served.signature.outputs), method_name: 'tensorflow/serving/predict' },
        },
      },
    },
  };
}

async function predict(deps: V2RouteDeps, target: Target, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const routed = deps.core.targetOf(target.model, target.selector);
  const served = await deps.models.acquire(routed.model, routed.selector);
  const body = request.body as Buffer | undefined;
  if (body === undefined || body.length === 0) throw new SibylError('MALFORMED_REQUEST', 'request body is empty; expected {"instances": [...]} or {"inputs": ...}');
  const { format, request: inferRequest } = decodePredictRequest(parseJsonExact(body.toString('utf8')), served.signature.inputs);
  releaseBody(request);
  const gone = watchConnection(request);
  let response;
  try {
    // Observers (metrics, prediction log, traces) see TF Serving requests like V2 ones: the same
    // arrival point (noted by the app's first hook), the same request span.
    const context = deps.core.newContext('tfserving', {
      requestId: request.id,
      arrivalMs: arrivalOf(request, deps.core.clock.now()),
      signal: gone,
      header: (name) => headerText(request.headers[name]),
      trace: requestSpan(request),
      // The caller the access hook admitted: by its credentials, or its verified client certificate (mTLS).
      principal: principalOf(request),
    });
    response = await deps.core.infer(target.model, target.selector, inferRequest, context);
  } finally {
    unwatchConnection(request, gone);
  }
  return reply.type('application/json').send(encodePredictResponse(response, format));
}

export function registerTfServingRoutes(app: FastifyInstance, deps: V2RouteDeps): void {
  // KServe V1's model list.
  app.get('/v1/models', async () => ({ models: deps.models.list().map((m) => m.name) }));

  app.get<{ Params: { '*': string } }>('/v1/models/*', async (request) => {
    const path = request.params['*'];
    if (path.endsWith('/metadata')) return metadata(deps, parseTarget(path.slice(0, -'/metadata'.length), 'GET'));
    return status(deps, parseTarget(path, 'GET'));
  });

  app.post<{ Params: { '*': string } }>('/v1/models/*', async (request, reply) => {
    const path = request.params['*'];
    const colon = path.lastIndexOf(':');
    const verb = colon < 0 ? '' : path.slice(colon + 1);
    const target = parseTarget(colon < 0 ? path : path.slice(0, colon), 'POST');
    if (verb === 'predict') return predict(deps, target, request, reply);
    if (verb === 'classify' || verb === 'regress') {
      throw new SibylError('NOT_SUPPORTED', `:${verb} needs a TensorFlow classification or regression signature; Sibyl serves :predict (and the V2 classification extension)`);
    }
    throw new SibylError('ROUTE_NOT_FOUND', `no endpoint for POST /v1/models/${path}; expected POST /v1/models/{model}[/versions/{version}|/labels/{label}]:predict`);
  });
}

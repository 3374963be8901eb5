// What the frontends report about models, built once for every wire format: model metadata,
// Triton's statistics and Triton's model configuration, as plain JSON-shaped objects. The V2 REST
// routes send them as JSON; the gRPC frontend hands them to protobuf (same field names).
import type { Datatype, ModelMetadata } from '@sibyl/protocol';
import type { Duration, ServedVersion } from '../serving/frontend-vocabulary.ts';
import type { ModelsApi } from '../serving/serving-api.ts';

/**
 * `GET /v2/models/{m}[/versions/{v}]`, gRPC ModelMetadata: of the served version, named `name`
 * (an endpoint's name when the version answers for an endpoint).
 */
export function modelMetadataOf(models: Pick<ModelsApi, 'status'>, served: ServedVersion, name = served.name): ModelMetadata {
  return {
    name,
    versions: models.status(served.name).versions.map((v) => String(v.version)),
    platform: served.platform,
    inputs: served.signature.inputs,
    outputs: served.signature.outputs,
  };
}

const durationJson = (d: Duration) => ({ count: d.count, ns: d.ns });

/** One `model_stats` entry of Triton's statistics extension (REST and gRPC ModelStatistics). */
export function statisticsOf(served: ServedVersion): Record<string, unknown> {
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
      cache_hit: durationJson(s.cacheHit),
      cache_miss: durationJson(s.cacheMiss),
    },
    batch_stats: s.batchStatistics().map((b) => ({
      batch_size: b.batchSize,
      compute_input: durationJson(b.computeInput),
      compute_infer: durationJson(b.computeInfer),
      compute_output: durationJson(b.computeOutput),
    })),
  };
}

/** Triton's model config datatype names: TYPE_ + the protocol's, except BYTES, which is TYPE_STRING. */
export function configDatatype(datatype: Datatype): string {
  return datatype === 'BYTES' ? 'TYPE_STRING' : `TYPE_${datatype}`;
}

/**
 * Triton's model configuration of a served version (its `GET /v2/models/{m}/config` JSON and the
 * gRPC ModelConfig message): with max_batch_size > 0 the dims leave out the batch dimension.
 */
export function modelConfigOf(served: ServedVersion): Record<string, unknown> {
  const { signature } = served;
  const batched = signature.maxBatchSize > 0;
  const tensors = (list: typeof signature.inputs) =>
    list.map((t) => ({ name: t.name, data_type: configDatatype(t.datatype), dims: batched ? t.shape.slice(1) : t.shape }));
  return {
    name: served.name,
    platform: served.platform,
    backend: 'onnxruntime',
    max_batch_size: signature.maxBatchSize,
    input: tensors(signature.inputs),
    output: tensors(signature.outputs),
    instance_group: [{ name: served.name, kind: 'KIND_CPU', count: served.instanceCount }],
    default_model_filename: 'model.onnx',
  };
}

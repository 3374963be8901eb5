// The per-model `config.yaml` document: its schema, and compile*() that turns a parsed file into
// frozen options. Everything is optional: an ONNX model needs no config, its inputs, outputs and
// batchability are read from the model file and the config only overrides them.
import Type, { type Static } from 'typebox';
import { DATATYPES } from '@sibyl/protocol';
import { validateConfig } from './validate.ts';

export const TensorConfigSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'Name of the input or output in the model file.' }),
    datatype: Type.Optional(
      Type.Enum(DATATYPES, { description: 'Open Inference Protocol datatype; must equal the one in the model file.' }),
    ),
    shape: Type.Optional(
      Type.Array(Type.Integer({ minimum: -1 }), {
        description:
          'Full shape including the batch dimension; -1 marks a variable dimension. May fix a dimension the model file leaves variable, never change a fixed one.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const ModelConfigSchema = Type.Object(
  {
    runtime: Type.Optional(Type.Literal('onnx', { description: 'What executes the model. Default: onnx.' })),
    maxBatchSize: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 1_000_000,
        description:
          'Most rows the dynamic batcher combines from several requests into one execution (a single request with more rows runs alone). 0: the model does not batch (the first dimension is not a batch dimension). Default: 64 when every input and output has a variable first dimension, else 0.',
      }),
    ),
    instanceCount: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 64, description: 'Loaded copies of the model, each in its own worker thread. Default: 1.' }),
    ),
    threadsPerInstance: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 256,
        description:
          "onnxruntime intra-op threads per instance. Default: 1 for a model file under 1 MiB (waking threads costs more than tiny models gain), else the machine's cores divided by instanceCount (at least 1).",
      }),
    ),
    dynamicBatching: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean({ description: 'Combine concurrent requests into one execution. Default: true (for models that batch).' })),
          maxQueueDelayMs: Type.Optional(
            Type.Number({
              minimum: 0,
              maximum: 10_000,
              description:
                'How long the oldest queued request may wait for a fuller batch, in ms (fractional). Default: 0: a batch goes as soon as an instance is free, with whatever has queued meanwhile.',
            }),
          ),
          preferredBatchSizes: Type.Optional(
            Type.Array(Type.Integer({ minimum: 1 }), { description: 'Batch sizes dispatched at once when reached exactly, without waiting for maxQueueDelayMs.' }),
          ),
        },
        { additionalProperties: false, description: 'How concurrent requests are combined into batches.' },
      ),
    ),
    maxQueueSize: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 10_000_000,
        description: 'Most requests waiting in the queue; more are refused with 429 and Retry-After. 0: no limit. Default: 1000.',
      }),
    ),
    executionsPerInstance: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 8,
        description:
          "Batches an instance may hold at once. 2 lets the next batch wait in the instance's inbox while the current one computes, so the instance never idles between batches; it still runs them one at a time. Default: 2.",
      }),
    ),
    inputs: Type.Optional(Type.Array(TensorConfigSchema, { description: 'Overrides for inputs read from the model file, matched by name.' })),
    outputs: Type.Optional(Type.Array(TensorConfigSchema, { description: 'Overrides for outputs read from the model file, matched by name.' })),
  },
  { additionalProperties: false, title: 'Sibyl model configuration (config.yaml)' },
);

export type TensorConfig = Static<typeof TensorConfigSchema>;
export type ModelConfigDocument = Static<typeof ModelConfigSchema>;

/** A validated model config with defaults that do not depend on the model file filled in. */
export interface ModelConfig {
  readonly runtime: 'onnx';
  /** undefined: decided from the model file (see ModelConfigSchema). */
  readonly maxBatchSize: number | undefined;
  readonly instanceCount: number;
  /** undefined: decided from the machine and the model file (see defaultThreadsPerInstance). */
  readonly threadsPerInstance: number | undefined;
  readonly inputs: readonly TensorConfig[];
  readonly outputs: readonly TensorConfig[];
  readonly dynamicBatching: { readonly enabled: boolean; readonly maxQueueDelayMs: number; readonly preferredBatchSizes: readonly number[] };
  readonly maxQueueSize: number;
  readonly executionsPerInstance: number;
}

/** Model files smaller than this get one intra-op thread by default. */
export const SMALL_MODEL_BYTES = 1024 * 1024;

/**
 * Intra-op threads for an instance when the config does not say: one for small models, whose
 * operators are too small to split (measured on the 32→256→256→2 MLP: 14k req/s with 1 thread,
 * 13k with 2), else the cores shared among the instances (ResNet-18: 55 images/s with 1 thread,
 * 99 with 2, on 2 cores).
 */
export function defaultThreadsPerInstance(cpuCount: number, instanceCount: number, artifactBytes: number): number {
  if (artifactBytes < SMALL_MODEL_BYTES) return 1;
  return Math.max(1, Math.floor(cpuCount / instanceCount));
}

/**
 * Validates a parsed config.yaml (undefined or null: no file, or an empty one) and compiles it.
 * @throws ConfigError naming `source` (the file path), the field, the value and what is allowed.
 */
export function compileModelConfig(document: unknown, source: string): ModelConfig {
  const doc = validateConfig<ModelConfigDocument>(ModelConfigSchema, document ?? {}, source);
  const instanceCount = doc.instanceCount ?? 1;
  return Object.freeze({
    runtime: doc.runtime ?? 'onnx',
    maxBatchSize: doc.maxBatchSize,
    instanceCount,
    threadsPerInstance: doc.threadsPerInstance,
    inputs: Object.freeze(doc.inputs ?? []),
    outputs: Object.freeze(doc.outputs ?? []),
    dynamicBatching: Object.freeze({
      enabled: doc.dynamicBatching?.enabled ?? true,
      maxQueueDelayMs: doc.dynamicBatching?.maxQueueDelayMs ?? 0,
      preferredBatchSizes: Object.freeze([...new Set(doc.dynamicBatching?.preferredBatchSizes ?? [])].sort((a, b) => a - b)),
    }),
    maxQueueSize: doc.maxQueueSize ?? 1000,
    executionsPerInstance: doc.executionsPerInstance ?? 2,
  });
}

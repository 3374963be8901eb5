// The per-model `config.yaml` document: its schema, and compile*() that turns a parsed file into
// frozen options. Everything is optional: an ONNX model needs no config, its inputs, outputs and
// batchability are read from the model file and the config only overrides them.
import Type, { type Static } from 'typebox';
import { DATATYPES } from '@sibyl/protocol';
import path from 'node:path';
import { DriftModelSchema, compileModelDrift, type ModelDriftConfig } from './drift-config.ts';
import { PredictionLogModelSchema, compileModelPredictionLog, type ModelPredictionLogConfig } from './prediction-log-config.ts';
import { resolveInModelFolder } from './model-folder-file.ts';
import { fieldDefault } from './schema-defaults.ts';
import { ConfigError, validateConfig, type ConfigProblem } from './validate.ts';

/**
 * A label name: starts with a letter (so it can never be read as a version number), then letters,
 * digits, '_', '-' or '.', at most 64 characters.
 */
const LABEL_PATTERN = '^[A-Za-z][A-Za-z0-9_.-]{0,63}$';
const LABEL_RE = new RegExp(LABEL_PATTERN);

/** Whether `name` may be a label (see LABEL_PATTERN). */
export function isLabelName(name: string): boolean {
  return LABEL_RE.test(name);
}

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
    runtime: Type.Optional(Type.Literal('onnx', { default: 'onnx', description: 'What executes the model.' })),
    maxBatchSize: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 1_000_000,
        description:
          'Most rows the dynamic batcher combines from several requests into one execution (a single request with more rows runs alone). 0: the model does not batch (the first dimension is not a batch dimension). Default: 64 when every input and output has a variable first dimension, else 0.',
      }),
    ),
    instanceCount: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 64, default: 1, description: 'Loaded copies of the model, each in its own worker thread.' }),
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
          enabled: Type.Optional(Type.Boolean({ default: true, description: 'Combine concurrent requests into one execution (for models that batch).' })),
          maxQueueDelayMs: Type.Optional(
            Type.Number({
              minimum: 0,
              maximum: 10_000,
              default: 0,
              description:
                'How long the oldest queued request may wait for a fuller batch, in ms (fractional). 0: a batch goes as soon as an instance is free, with whatever has queued meanwhile.',
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
        default: 1000, description: 'Most requests waiting in the queue; more are refused with 429 and Retry-After. 0: no limit.',
      }),
    ),
    executionsPerInstance: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 8,
        default: 2,
          description:
          "Batches an instance may hold at once. 2 lets the next batch wait in the instance's inbox while the current one computes, so the instance never idles between batches; it still runs them one at a time.",
      }),
    ),
    instanceHangTimeoutMs: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 86_400_000,
        default: 60000,
          description:
          "Longest time an instance may hold executions without finishing one. A longer one is taken out of rotation and a replacement is loaded; it is closed once its run returns (an onnxruntime run cannot be interrupted safely), so a model that never returns costs one stuck thread, not the version. Requests are answered at their own deadline (requestTimeoutMs or the request's timeout) either way. 0: no watchdog.",
      }),
    ),
    loadTimeoutMs: Type.Optional(
      Type.Integer({
        minimum: 1000,
        maximum: 86_400_000,
        default: 600000,
        description:
          "Longest time one load of a version may take, from when it gets a load slot until it is READY: every instance's load, warm-up and the response cache's hash of the model file all count. A load still running then is abandoned and the version becomes UNAVAILABLE with the reason `load did not finish within … ms`; the server's start-up, shutdown and the requests waiting for the version go on. The abandoned load cannot be interrupted (stopping an onnxruntime session mid-load would abort the process): if it ever finishes, its instances are closed and never serve. The version is tried again when its files or config change.",
      }),
    ),
    versionPolicy: Type.Optional(
      Type.Object(
        {
          latest: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Serve the N newest versions in the repository.' })),
          specific: Type.Optional(
            Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, description: 'Serve exactly these versions (those present in the repository).' }),
          ),
          all: Type.Optional(Type.Literal(true, { description: 'Serve every version in the repository.' })),
        },
        {
          additionalProperties: false,
          default: { latest: 1 },
          description: 'Which versions are loaded: exactly one of latest, specific or all. Versions that labels point at are loaded too.',
        },
      ),
    ),
    labels: Type.Optional(
      Type.Record(Type.String(), Type.Integer({ minimum: 1 }), {
        description:
          'Named pointers to versions (stable: 2, canary: 3). A request may address a label instead of a version; unaddressed requests go to `stable` when it is set, else to the newest loaded version. Labels moved through the API override these until deleted there.',
      }),
    ),
    signatureChange: Type.Optional(
      Type.Enum(['refuse', 'allow'] as const, {
        default: 'refuse',
          description:
          "What a new version whose signature is incompatible with the one the default traffic is served with (an input added, removed or retyped, a fixed size changed, an output removed or retyped) may do. refuse: it loads and answers requests that name it (its version or a label), but requests that name no version stay on the compatible version until it is accepted (acceptSignature, or a label such as stable moved to it). allow: the newest version takes the default traffic whatever its signature.",
      }),
    ),
    acceptSignature: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1 }), {
        maxItems: 1000,
        description: 'Versions whose signature change is accepted: they take the default traffic like compatible versions (see signatureChange).',
      }),
    ),
    warmup: Type.Optional(
      Type.Object(
        {
          batchSizes: Type.Optional(
            Type.Array(Type.Integer({ minimum: 1, maximum: 1_000_000 }), {
              minItems: 1,
              description: 'Run generated inputs of these batch sizes (rows) on every instance before the version reports READY. Default: [1] when warmup is present and samplesFile is not.',
            }),
          ),
          data: Type.Optional(
            Type.Enum(['random', 'zero'] as const, {
              default: 'random', description: 'Generated inputs: random (floats in [0, 1), integers 0 or 1, short strings) or all zero.',
            }),
          ),
          samplesFile: Type.Optional(
            Type.String({
              minLength: 1,
              description:
                'File of Open Inference Protocol (V2) inference requests in JSON, relative to the model folder and inside it (absolute paths, `..` leading out and links to files outside are refused): one request, a JSON array of requests, or JSON Lines. Each runs on every instance.',
            }),
          ),
          iterations: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 1, description: 'Times each warm-up input runs on each instance.' })),
        },
        { additionalProperties: false, description: 'Warm-up executions run on every instance before a version reports READY; a failure makes the version UNAVAILABLE.' },
      ),
    ),
    responseCache: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean({ default: true, description: 'Answer repeated requests (the same inputs and outputs) from the response cache.' })),
          ttlMs: Type.Optional(Type.Integer({ minimum: 1, description: "How long an answer is kept, in ms. Default: the server's responseCache.ttlMs." })),
        },
        { additionalProperties: false, description: "Opt in to the server's response cache for this model (see the server's responseCache)." },
      ),
    ),
    memoryBytes: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          "Memory one loaded version of this model takes, counted against the server's memoryBudgetBytes. Default: the size of model.onnx times instanceCount.",
      }),
    ),
    inputs: Type.Optional(Type.Array(TensorConfigSchema, { description: 'Overrides for inputs read from the model file, matched by name.' })),
    outputs: Type.Optional(Type.Array(TensorConfigSchema, { description: 'Overrides for outputs read from the model file, matched by name.' })),
    predictionLog: Type.Optional(PredictionLogModelSchema),
    drift: Type.Optional(DriftModelSchema),
  },
  { additionalProperties: false, title: 'Sibyl model configuration (config.yaml)' },
);

export type TensorConfig = Static<typeof TensorConfigSchema>;

/** Which versions of a model should be loaded (Triton's version_policy). */
export type VersionPolicy = { readonly kind: 'latest'; readonly count: number } | { readonly kind: 'specific'; readonly versions: readonly number[] } | { readonly kind: 'all' };

export interface WarmupConfig {
  /** Rows of each generated warm-up input; empty when only samples run. */
  readonly batchSizes: readonly number[];
  readonly data: 'random' | 'zero';
  /** Absolute path of the samples file, when set. */
  readonly samplesPath: string | undefined;
  readonly iterations: number;
}
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
  /** 0: no hang watchdog. */
  readonly instanceHangTimeoutMs: number;
  /** The bound of one load, warm-up included (see ModelConfigSchema). */
  readonly loadTimeoutMs: number;
  readonly versionPolicy: VersionPolicy;
  /** Label → version, as the config sets them. */
  readonly labels: Readonly<Record<string, number>>;
  /** Whether a version with an incompatible signature may take the default traffic (see ModelConfigSchema). */
  readonly signatureChange: 'refuse' | 'allow';
  /** Versions whose signature change is accepted. */
  readonly acceptSignature: readonly number[];
  /** undefined: no warm-up. */
  readonly warmup: WarmupConfig | undefined;
  /** undefined: estimated from the model file (see ModelConfigSchema). */
  readonly memoryBytes: number | undefined;
  /** undefined: not cached; ttlMs undefined: the server's default. */
  readonly responseCache: { readonly ttlMs: number | undefined } | undefined;
  readonly predictionLog: ModelPredictionLogConfig;
  /** undefined: drift monitoring is off. */
  readonly drift: ModelDriftConfig | undefined;
}

/** The defaults compileModelConfig fills in, read from the schema (its `default` keywords). */
const DEFAULT = {
  runtime: fieldDefault<'onnx'>(ModelConfigSchema, 'runtime'),
  instanceCount: fieldDefault<number>(ModelConfigSchema, 'instanceCount'),
  batchingEnabled: fieldDefault<boolean>(ModelConfigSchema, 'dynamicBatching.enabled'),
  maxQueueDelayMs: fieldDefault<number>(ModelConfigSchema, 'dynamicBatching.maxQueueDelayMs'),
  maxQueueSize: fieldDefault<number>(ModelConfigSchema, 'maxQueueSize'),
  executionsPerInstance: fieldDefault<number>(ModelConfigSchema, 'executionsPerInstance'),
  instanceHangTimeoutMs: fieldDefault<number>(ModelConfigSchema, 'instanceHangTimeoutMs'),
  loadTimeoutMs: fieldDefault<number>(ModelConfigSchema, 'loadTimeoutMs'),
  versionPolicy: fieldDefault<NonNullable<ModelConfigDocument['versionPolicy']>>(ModelConfigSchema, 'versionPolicy'),
  signatureChange: fieldDefault<'refuse' | 'allow'>(ModelConfigSchema, 'signatureChange'),
  warmupData: fieldDefault<'random' | 'zero'>(ModelConfigSchema, 'warmup.data'),
  warmupIterations: fieldDefault<number>(ModelConfigSchema, 'warmup.iterations'),
  responseCacheEnabled: fieldDefault<boolean>(ModelConfigSchema, 'responseCache.enabled'),
};

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
 * Files it names (warmup.samplesFile, drift.baselineFile) resolve inside `folder`, the model's
 * folder (by default the config file's; pass it when the config did not come from the model's
 * config.yaml, as with the config parameter of a load request): see model-folder-file.ts.
 * @throws ConfigError naming `source` (the file path), the field, the value and what is allowed.
 */
export function compileModelConfig(document: unknown, source: string, folder: string = path.dirname(source)): ModelConfig {
  const doc = validateConfig<ModelConfigDocument>(ModelConfigSchema, document ?? {}, source);
  const fileProblems: ConfigProblem[] = [];
  const inFolder = (file: string, field: string): string => {
    const r = resolveInModelFolder(folder, file, field);
    if ('problem' in r) fileProblems.push(r.problem);
    return 'path' in r ? r.path : file;
  };
  const samplesPath = doc.warmup?.samplesFile === undefined ? undefined : inFolder(doc.warmup.samplesFile, 'warmup.samplesFile');
  const drift = compileModelDrift(doc.drift, (file) => inFolder(file, 'drift.baselineFile'));
  if (fileProblems.length > 0) throw new ConfigError(source, fileProblems);
  const instanceCount = doc.instanceCount ?? DEFAULT.instanceCount;
  const versionPolicy = compileVersionPolicy(doc.versionPolicy, source);
  const badLabels = Object.keys(doc.labels ?? {}).filter((l) => !LABEL_RE.test(l));
  if (badLabels.length > 0) {
    throw new ConfigError(
      source,
      badLabels.map((l) => ({ path: `labels.${l}`, message: `${JSON.stringify(l)} is not a label name; expected a letter, then letters, digits, '_', '-' or '.' (at most 64 characters)` })),
    );
  }
  const warmup = doc.warmup;
  return Object.freeze({
    runtime: doc.runtime ?? DEFAULT.runtime,
    maxBatchSize: doc.maxBatchSize,
    instanceCount,
    threadsPerInstance: doc.threadsPerInstance,
    inputs: Object.freeze(doc.inputs ?? []),
    outputs: Object.freeze(doc.outputs ?? []),
    dynamicBatching: Object.freeze({
      enabled: doc.dynamicBatching?.enabled ?? DEFAULT.batchingEnabled,
      maxQueueDelayMs: doc.dynamicBatching?.maxQueueDelayMs ?? DEFAULT.maxQueueDelayMs,
      preferredBatchSizes: Object.freeze([...new Set(doc.dynamicBatching?.preferredBatchSizes ?? [])].sort((a, b) => a - b)),
    }),
    maxQueueSize: doc.maxQueueSize ?? DEFAULT.maxQueueSize,
    executionsPerInstance: doc.executionsPerInstance ?? DEFAULT.executionsPerInstance,
    instanceHangTimeoutMs: doc.instanceHangTimeoutMs ?? DEFAULT.instanceHangTimeoutMs,
    loadTimeoutMs: doc.loadTimeoutMs ?? DEFAULT.loadTimeoutMs,
    versionPolicy,
    labels: Object.freeze({ ...doc.labels }),
    signatureChange: doc.signatureChange ?? DEFAULT.signatureChange,
    acceptSignature: Object.freeze([...new Set(doc.acceptSignature ?? [])].sort((a, b) => a - b)),
    warmup:
      warmup === undefined
        ? undefined
        : Object.freeze({
            batchSizes: Object.freeze(warmup.batchSizes ?? (warmup.samplesFile === undefined ? [1] : [])),
            data: warmup.data ?? DEFAULT.warmupData,
            samplesPath,
            iterations: warmup.iterations ?? DEFAULT.warmupIterations,
          }),
    memoryBytes: doc.memoryBytes,
    responseCache: doc.responseCache === undefined || !(doc.responseCache.enabled ?? DEFAULT.responseCacheEnabled) ? undefined : Object.freeze({ ttlMs: doc.responseCache.ttlMs }),
    predictionLog: compileModelPredictionLog(doc.predictionLog),
    drift,
  });
}

function compileVersionPolicy(given: ModelConfigDocument['versionPolicy'], source: string): VersionPolicy {
  const policy = given ?? DEFAULT.versionPolicy;
  const set = (['latest', 'specific', 'all'] as const).filter((k) => policy[k] !== undefined);
  if (set.length !== 1) {
    throw new ConfigError(source, [
      {
        path: 'versionPolicy',
        message: `${set.length === 0 ? 'sets none' : `sets ${set.join(' and ')}`}; expected exactly one of latest (a count), specific (a list of versions) or all: true`,
      },
    ]);
  }
  if (policy.latest !== undefined) return { kind: 'latest', count: policy.latest };
  if (policy.specific !== undefined) return Object.freeze({ kind: 'specific', versions: Object.freeze([...new Set(policy.specific)].sort((a, b) => a - b)) });
  return { kind: 'all' };
}

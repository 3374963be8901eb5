// Endpoints: the names clients call, each with a traffic policy that decides which model
// versions answer. One schema for an endpoint, in `sibyl.yaml` (`endpoints: {name: …}`) and in
// the management API (PUT /v1/endpoints/{e}); compileEndpointConfig turns a document into frozen
// options with every cross-field rule checked and named.
import Type, { type Static } from 'typebox';
import { DATATYPES, NAME_RULE, decodeInferRequest, nameProblem } from '@sibyl/protocol';
import { ConfigError, validateConfig, type ConfigProblem } from './validate.ts';

const modelField = Type.String({ minLength: 1, description: 'Model name in the repository.' });
const versionField = Type.Integer({ minimum: 1, description: 'A version of the model. Omit both version and label for the model\'s default route.' });
const labelField = Type.String({ minLength: 1, description: 'A label of the model (stable, canary, …) instead of a version.' });

export const TargetSchema = Type.Object(
  { model: modelField, version: Type.Optional(versionField), label: Type.Optional(labelField) },
  { additionalProperties: false, description: 'A model version: by number, by label, or (neither) its default route.' },
);

const StickyKeySchema = Type.Object(
  {
    header: Type.Optional(Type.String({ minLength: 1, description: 'HTTP header (or gRPC metadata key) whose value keeps a caller in one arm, e.g. x-user-id.' })),
    parameter: Type.Optional(Type.String({ minLength: 1, description: 'Request parameter whose value keeps a caller in one arm, e.g. user_id.' })),
  },
  { additionalProperties: false, description: 'Sticky assignment: requests with the same key go to the same arm (weighted rendezvous hashing). Without a key, arms are drawn at random by weight.' },
);

const ArmSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'Arm name, reported in responses (sibyl_variant) and in the endpoint report.' }),
    weight: Type.Number({ minimum: 0, description: 'Relative share of traffic.' }),
    model: modelField,
    version: Type.Optional(versionField),
    label: Type.Optional(labelField),
  },
  { additionalProperties: false },
);

const AnalysisSchema = Type.Object(
  {
    minSamples: Type.Optional(Type.Integer({ minimum: 1, default: 100, description: 'Requests the candidate must have answered in a stage before it is judged.' })),
    maxErrorRate: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: "The candidate's server-error rate may not exceed this." })),
    maxErrorRateIncrease: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1, description: "The candidate's error rate may exceed the stable arm's by at most this. Default: 0.01 when no other limit is set." }),
    ),
    maxP99Ms: Type.Optional(Type.Number({ minimum: 0, description: "The candidate's p99 latency may not exceed this, in ms." })),
    maxP99Ratio: Type.Optional(Type.Number({ minimum: 1, description: "The candidate's p99 latency may be at most this many times the stable arm's." })),
  },
  { additionalProperties: false, description: 'Limits the candidate is held to in every stage, against the stable arm.' },
);

const TensorValueSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    datatype: Type.Enum(DATATYPES),
    shape: Type.Array(Type.Integer({ minimum: 0 })),
    data: Type.Array(Type.Union([Type.Number(), Type.String(), Type.Boolean()]), { description: 'Flat, row-major.' }),
  },
  { additionalProperties: false },
);

export const EndpointConfigSchema = Type.Object(
  {
    description: Type.Optional(Type.String({ description: 'What the endpoint is for (shown in reports).' })),
    replacesModel: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          "The endpoint has the name of a model of the repository and answers in its place (requests that name a version or label still reach the model). Without it such an endpoint is refused through the API (409 ENDPOINT_SHADOWS_MODEL) and, from sibyl.yaml or the state store, never takes the model's traffic. Set through the API only with the admin scope.",
      }),
    ),
    target: Type.Optional(TargetSchema),
    split: Type.Optional(
      Type.Object(
        { arms: Type.Array(ArmSchema, { minItems: 1 }), stickyKey: Type.Optional(StickyKeySchema) },
        { additionalProperties: false, description: 'Weighted split (A/B/n) across versions or models.' },
      ),
    ),
    canary: Type.Optional(
      Type.Object(
        {
          stable: TargetSchema,
          candidate: TargetSchema,
          stages: Type.Optional(
            Type.Array(Type.Number({ minimum: 0, maximum: 100 }), {
              minItems: 1,
              default: [5, 25, 50, 100], description: 'Percent of traffic the candidate gets in each stage, ascending; after the last stage passes, the candidate is promoted.',
            }),
          ),
          stageDurationMs: Type.Integer({ minimum: 1, description: 'How long each stage lasts before it is judged and the next begins, in ms.' }),
          analysis: Type.Optional(AnalysisSchema),
          retryOnStable: Type.Optional(
            Type.Boolean({ default: true, description: "A request the candidate fails (a server error) is answered by the stable arm, so callers never see the candidate's failures." }),
          ),
          stickyKey: Type.Optional(StickyKeySchema),
        },
        { additionalProperties: false, description: 'Staged rollout of a candidate against the stable arm, promoted on success and rolled back on a breach.' },
      ),
    ),
    blueGreen: Type.Optional(
      Type.Object(
        { blue: TargetSchema, green: TargetSchema, active: Type.Enum(['blue', 'green'] as const, { description: 'Which one answers.' }) },
        { additionalProperties: false, description: 'Two versions loaded; all traffic to the active one; switching is atomic and instant both ways.' },
      ),
    ),
    cascade: Type.Optional(
      Type.Object(
        {
          stages: Type.Array(
            Type.Object(
              {
                model: modelField,
                version: Type.Optional(versionField),
                label: Type.Optional(labelField),
                output: Type.Optional(Type.String({ minLength: 1, description: "Output whose largest value per row is the stage's confidence. Default: the model's first output." })),
                threshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'A row answered with at least this confidence stops here. Required on every stage but the last.' })),
              },
              { additionalProperties: false },
            ),
            { minItems: 2 },
          ),
        },
        { additionalProperties: false, description: 'Cheap models first: each row goes on to the next stage only while its confidence is below the threshold.' },
      ),
    ),
    hybrid: Type.Optional(
      Type.Object(
        {
          target: TargetSchema,
          storedModel: Type.Optional(
            Type.String({ minLength: 1, description: "The model name the batch job stored its predictions under. Default: the target's model." }),
          ),
          key: Type.Object(
            {
              parameter: Type.Optional(Type.String({ minLength: 1, description: 'Request parameter holding the key, e.g. customer_id.' })),
              header: Type.Optional(Type.String({ minLength: 1, description: 'HTTP header (or gRPC metadata key) holding the key, e.g. x-customer-id.' })),
              input: Type.Optional(
                Type.String({ minLength: 1, description: 'Input tensor holding the key (one element); it is removed from the inputs before the live call.' }),
              ),
            },
            { additionalProperties: false, description: 'Where a request carries the key of its stored prediction: exactly one of parameter, header or input.' },
          ),
          maxAgeMs: Type.Integer({ minimum: 1, description: 'A stored prediction answers while it is younger than this, in ms (e.g. 90000000 for nightly jobs: 25 hours).' }),
          default: Type.Optional(
            Type.Object({ outputs: Type.Array(TensorValueSchema, { minItems: 1 }) }, { additionalProperties: false, description: 'The answer when neither the store nor the live model can give one.' }),
          ),
        },
        {
          additionalProperties: false,
          description: 'Precomputed and live predictions: the stored prediction of the request\u2019s key while younger than maxAgeMs, else the live target when the request carries inputs, else the default response.',
        },
      ),
    ),
    shadow: Type.Optional(
      Type.Object(
        {
          target: TargetSchema,
          fraction: Type.Number({ minimum: 0, maximum: 1, description: 'Share of requests copied to the shadow target.' }),
          maxInFlight: Type.Optional(Type.Integer({ minimum: 1, default: 64, description: 'Shadow requests running at once; more copies are dropped (and counted).' })),
          compareOutput: Type.Optional(Type.String({ minLength: 1, description: "Output compared for agreement (same top class, max absolute difference). Default: the primary's first output." })),
        },
        { additionalProperties: false, description: "Copies of requests sent to a candidate in the background; the caller's answer never waits for them." },
      ),
    ),
    fallback: Type.Optional(
      Type.Object(
        {
          target: Type.Optional(TargetSchema),
          response: Type.Optional(
            Type.Object({ outputs: Type.Array(TensorValueSchema, { minItems: 1 }) }, { additionalProperties: false, description: 'A default answer, e.g. a probability of 0.01.' }),
          ),
          timeoutMs: Type.Optional(Type.Number({ minimum: 0, description: 'A target that takes longer is answered for by the fallback (its request is cancelled if still queued). Absent: no time limit.' })),
        },
        { additionalProperties: false, description: 'What answers while a target fails, times out or has its circuit breaker open: a fallback model, else a default response.' },
      ),
    ),
    breaker: Type.Optional(
      Type.Object(
        {
          consecutiveFailures: Type.Optional(Type.Integer({ minimum: 1, default: 5, description: 'Failures in a row that open the breaker.' })),
          errorRate: Type.Optional(Type.Number({ minimum: 0, maximum: 1, default: 0.5, description: 'An error rate over windowMs that opens the breaker.' })),
          windowMs: Type.Optional(Type.Integer({ minimum: 1, default: 10000, description: 'Window of the error rate, in ms.' })),
          minRequests: Type.Optional(Type.Integer({ minimum: 1, default: 20, description: 'Requests in the window before the error rate counts.' })),
          coolDownMs: Type.Optional(Type.Integer({ minimum: 1, default: 5000, description: 'Time open before one probe request is let through (half-open).' })),
        },
        { additionalProperties: false, description: 'A circuit breaker per target (used with fallback).' },
      ),
    ),
  },
  { additionalProperties: false, title: 'Sibyl endpoint' },
);

export type EndpointConfigDocument = Static<typeof EndpointConfigSchema>;

/** A model version an endpoint sends requests to. */
export interface Target {
  readonly model: string;
  readonly version?: number;
  readonly label?: string;
}

export interface StickyKey {
  readonly header?: string;
  readonly parameter?: string;
}

export interface Arm {
  readonly name: string;
  readonly weight: number;
  readonly target: Target;
}

export interface CanaryAnalysisLimits {
  readonly minSamples: number;
  readonly maxErrorRate?: number;
  readonly maxErrorRateIncrease?: number;
  readonly maxP99Ms?: number;
  readonly maxP99Ratio?: number;
}

export type TrafficPolicy =
  | { readonly kind: 'single'; readonly target: Target }
  | { readonly kind: 'split'; readonly arms: readonly Arm[]; readonly stickyKey?: StickyKey }
  | {
      readonly kind: 'canary';
      readonly stable: Target;
      readonly candidate: Target;
      readonly stages: readonly number[];
      readonly stageDurationMs: number;
      readonly analysis: CanaryAnalysisLimits;
      readonly retryOnStable: boolean;
      readonly stickyKey?: StickyKey;
    }
  | { readonly kind: 'blueGreen'; readonly blue: Target; readonly green: Target; readonly active: 'blue' | 'green' }
  | { readonly kind: 'cascade'; readonly stages: readonly { readonly target: Target; readonly output?: string; readonly threshold?: number }[] }
  | {
      readonly kind: 'hybrid';
      /** The live model. */
      readonly target: Target;
      /** The model name stored predictions are read under. */
      readonly storedModel: string;
      readonly key: HybridKey;
      readonly maxAgeMs: number;
      readonly default?: readonly DefaultOutput[];
    };

/** Where a hybrid endpoint's request carries its key: exactly one is set. */
export interface HybridKey {
  readonly parameter?: string;
  /** Lower-case. */
  readonly header?: string;
  readonly input?: string;
}

export interface DefaultOutput {
  readonly name: string;
  readonly datatype: (typeof DATATYPES)[number];
  readonly shape: readonly number[];
  readonly data: readonly (number | string | boolean)[];
}

export interface EndpointConfig {
  readonly description: string;
  readonly policy: TrafficPolicy;
  readonly shadow?: { readonly target: Target; readonly fraction: number; readonly maxInFlight: number; readonly compareOutput?: string };
  readonly fallback?: { readonly target?: Target; readonly response?: readonly DefaultOutput[]; readonly timeoutMs?: number };
  readonly breaker: { readonly consecutiveFailures: number; readonly errorRate: number; readonly windowMs: number; readonly minRequests: number; readonly coolDownMs: number };
  /** The document it was compiled from (what the API returns and the state store keeps). */
  readonly document: EndpointConfigDocument;
}

const POLICIES = ['target', 'split', 'canary', 'blueGreen', 'cascade', 'hybrid'] as const;

function target(t: { model: string; version?: number; label?: string }, path: string, problems: ConfigProblem[]): Target {
  if (t.version !== undefined && t.label !== undefined) problems.push({ path, message: 'sets both version and label; expected one of them, or neither for the default route' });
  for (const field of ['model', 'label'] as const) {
    const problem = t[field] === undefined ? undefined : nameProblem(t[field]);
    if (problem !== undefined) problems.push({ path: `${path}.${field}`, message: `${problem}; ${NAME_RULE}` });
  }
  return Object.freeze({ model: t.model, ...(t.version === undefined ? {} : { version: t.version }), ...(t.label === undefined ? {} : { label: t.label }) });
}

/**
 * Validates an endpoint document and compiles it. `name` is the endpoint's name (its default
 * target is the model of that name); `source` names the file or request in errors.
 * @throws ConfigError naming the source, the field and what is allowed.
 */
export function compileEndpointConfig(name: string, document: unknown, source: string): EndpointConfig {
  const doc = validateConfig<EndpointConfigDocument>(EndpointConfigSchema, document ?? {}, source);
  const problems: ConfigProblem[] = [];
  const nameInvalid = nameProblem(name);
  if (nameInvalid !== undefined) problems.push({ path: '', message: `the endpoint name ${nameInvalid}; ${NAME_RULE}` });
  const set = POLICIES.filter((p) => doc[p] !== undefined);
  if (set.length > 1) problems.push({ path: '', message: `sets ${set.join(' and ')}; an endpoint has one traffic policy: target, split, canary, blueGreen, cascade or hybrid` });
  let policy: TrafficPolicy;
  if (doc.split !== undefined) {
    const arms = doc.split.arms.map((a, i) => Object.freeze({ name: a.name, weight: a.weight, target: target(a, `split.arms[${i}]`, problems) }));
    const names = arms.map((a) => a.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) problems.push({ path: 'split.arms', message: `arm name '${dup}' is used twice; arm names must differ` });
    if (arms.every((a) => a.weight === 0)) problems.push({ path: 'split.arms', message: 'every weight is 0; at least one arm needs a positive weight' });
    policy = { kind: 'split', arms: Object.freeze(arms), ...sticky(doc.split.stickyKey, 'split.stickyKey', problems) };
  } else if (doc.canary !== undefined) {
    const c = doc.canary;
    const stages = c.stages ?? [5, 25, 50, 100];
    stages.forEach((s, i) => {
      if (i > 0 && s <= stages[i - 1]!) problems.push({ path: `canary.stages[${i}]`, message: `${s} is not above the stage before it (${stages[i - 1]}); stages must ascend` });
    });
    const a = c.analysis ?? {};
    const limitsSet = a.maxErrorRate !== undefined || a.maxErrorRateIncrease !== undefined || a.maxP99Ms !== undefined || a.maxP99Ratio !== undefined;
    policy = {
      kind: 'canary',
      stable: target(c.stable, 'canary.stable', problems),
      candidate: target(c.candidate, 'canary.candidate', problems),
      stages: Object.freeze([...stages]),
      stageDurationMs: c.stageDurationMs,
      analysis: Object.freeze({
        minSamples: a.minSamples ?? 100,
        ...(a.maxErrorRate === undefined ? {} : { maxErrorRate: a.maxErrorRate }),
        ...(a.maxErrorRateIncrease === undefined ? (limitsSet ? {} : { maxErrorRateIncrease: 0.01 }) : { maxErrorRateIncrease: a.maxErrorRateIncrease }),
        ...(a.maxP99Ms === undefined ? {} : { maxP99Ms: a.maxP99Ms }),
        ...(a.maxP99Ratio === undefined ? {} : { maxP99Ratio: a.maxP99Ratio }),
      }),
      retryOnStable: c.retryOnStable ?? true,
      ...sticky(c.stickyKey, 'canary.stickyKey', problems),
    };
  } else if (doc.blueGreen !== undefined) {
    policy = { kind: 'blueGreen', blue: target(doc.blueGreen.blue, 'blueGreen.blue', problems), green: target(doc.blueGreen.green, 'blueGreen.green', problems), active: doc.blueGreen.active };
  } else if (doc.cascade !== undefined) {
    const stages = doc.cascade.stages.map((s, i) => {
      if (i < doc.cascade!.stages.length - 1 && s.threshold === undefined) {
        problems.push({ path: `cascade.stages[${i}].threshold`, message: 'is required on every stage but the last: the confidence at which a row stops here' });
      }
      return Object.freeze({ target: target(s, `cascade.stages[${i}]`, problems), ...(s.output === undefined ? {} : { output: s.output }), ...(s.threshold === undefined ? {} : { threshold: s.threshold }) });
    });
    policy = { kind: 'cascade', stages: Object.freeze(stages) };
  } else if (doc.hybrid !== undefined) {
    const h = doc.hybrid;
    const keys = (['parameter', 'header', 'input'] as const).filter((k) => h.key[k] !== undefined);
    if (keys.length !== 1) problems.push({ path: 'hybrid.key', message: `${keys.length === 0 ? 'sets none' : `sets ${keys.join(' and ')}`}; expected exactly one of parameter, header or input` });
    if (doc.shadow !== undefined) problems.push({ path: 'shadow', message: 'does not apply to a hybrid endpoint (stored answers have no inputs to copy)' });
    if (h.default !== undefined) {
      try {
        decodeInferRequest(JSON.stringify({ inputs: h.default.outputs }));
      } catch (err) {
        problems.push({ path: 'hybrid.default.outputs', message: `is not a valid answer: ${(err as Error).message.replace(/^inputs/, 'outputs')}` });
      }
    }
    const t = target(h.target, 'hybrid.target', problems);
    policy = {
      kind: 'hybrid',
      target: t,
      storedModel: h.storedModel ?? t.model,
      key: Object.freeze({ ...h.key, ...(h.key.header === undefined ? {} : { header: h.key.header.toLowerCase() }) }),
      maxAgeMs: h.maxAgeMs,
      ...(h.default === undefined ? {} : { default: Object.freeze(h.default.outputs) }),
    };
  } else {
    policy = { kind: 'single', target: doc.target === undefined ? Object.freeze({ model: name }) : target(doc.target, 'target', problems) };
  }
  const fb = doc.fallback;
  if (fb !== undefined && fb.target === undefined && fb.response === undefined) {
    problems.push({ path: 'fallback', message: 'has neither target nor response; expected a target (a fallback model) or a response (a default answer)' });
  }
  const shadow =
    doc.shadow === undefined
      ? undefined
      : Object.freeze({
          target: target(doc.shadow.target, 'shadow.target', problems),
          fraction: doc.shadow.fraction,
          maxInFlight: doc.shadow.maxInFlight ?? 64,
          ...(doc.shadow.compareOutput === undefined ? {} : { compareOutput: doc.shadow.compareOutput }),
        });
  const fallback =
    fb === undefined
      ? undefined
      : Object.freeze({
          ...(fb.target === undefined ? {} : { target: target(fb.target, 'fallback.target', problems) }),
          ...(fb.response === undefined ? {} : { response: Object.freeze(fb.response.outputs) }),
          ...(fb.timeoutMs === undefined ? {} : { timeoutMs: fb.timeoutMs }),
        });
  if (problems.length > 0) throw new ConfigError(source, problems);
  const b = doc.breaker ?? {};
  return Object.freeze({
    description: doc.description ?? '',
    policy: Object.freeze(policy),
    ...(shadow === undefined ? {} : { shadow }),
    ...(fallback === undefined ? {} : { fallback }),
    breaker: Object.freeze({
      consecutiveFailures: b.consecutiveFailures ?? 5,
      errorRate: b.errorRate ?? 0.5,
      windowMs: b.windowMs ?? 10_000,
      minRequests: b.minRequests ?? 20,
      coolDownMs: b.coolDownMs ?? 5000,
    }),
    document: doc,
  });
}

function sticky(key: { header?: string; parameter?: string } | undefined, path: string, problems: ConfigProblem[]): { stickyKey?: StickyKey } {
  if (key === undefined) return {};
  if ((key.header === undefined) === (key.parameter === undefined)) problems.push({ path, message: 'expected exactly one of header or parameter' });
  return { stickyKey: Object.freeze({ ...key, ...(key.header === undefined ? {} : { header: key.header.toLowerCase() }) }) };
}

/**
 * Compiles the endpoints of a server configuration (`endpoints` of sibyl.yaml), once at start-up:
 * the composition root uses these and never compiles the documents again. Problems are named by
 * their path under `endpoints.<name>`; endpoints with problems are left out of the map.
 */
export function compileEndpointConfigs(documents: Readonly<Record<string, unknown>>, source: string): { endpoints: ReadonlyMap<string, EndpointConfig>; problems: ConfigProblem[] } {
  const endpoints = new Map<string, EndpointConfig>();
  const problems: ConfigProblem[] = [];
  for (const [name, document] of Object.entries(documents)) {
    try {
      endpoints.set(name, compileEndpointConfig(name, document, source));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems.map((p) => ({ path: `endpoints.${name}${p.path === '' ? '' : `.${p.path}`}`, message: p.message })));
    }
  }
  return { endpoints, problems };
}

/** compileEndpointConfigs for a configuration built in code (tests, embedding). @throws ConfigError naming `source`. */
export function compileConfiguredEndpoints(documents: Readonly<Record<string, unknown>>, source: string): ReadonlyMap<string, EndpointConfig> {
  const { endpoints, problems } = compileEndpointConfigs(documents, source);
  if (problems.length > 0) throw new ConfigError(source, problems);
  return endpoints;
}

// The namespaces of the state store and the shape of what each holds: the one list that every
// writer names its namespace from and that a snapshot to restore is checked against, so a
// restore takes exactly what `sibyl snapshot` writes — no unknown namespace, field or type.
import Type, { type TSchema } from 'typebox';
import path from 'node:path';
import { compileEndpointConfig } from '../config/endpoint-config.ts';
import { ModelConfigSchema } from '../config/model-config.ts';
import { checkAgainstSchema, ConfigError, type ConfigProblem } from '../config/validate.ts';

/** Every namespace of the state store. */
export const STATE_NAMESPACES = {
  /** model → { label → LabelRecord }: labels set through the API. */
  labels: 'labels',
  /** model → { loaded, config? }: explicit loads and unloads. */
  explicit: 'explicit',
  /** model → { lastKnownGood, signatureReference }: the version to fall back to when every desired one fails, and the signature the default traffic is served with. */
  models: 'models',
  /** endpoint → { config?, state?, configHash? }: endpoints set through the API, and every endpoint's state. */
  endpoints: 'endpoints',
  /** job id → { startedAtMs }: batch jobs this server is running. */
  batchJobs: 'batch-jobs',
} as const;

const version = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
const strict = { additionalProperties: false } as const;
const byName = (value: TSchema): TSchema => Type.Record(Type.String({ minLength: 1 }), value);
/** What models/signature-compatibility.ts writes as a model's signature reference (its reader, parseSignatureReference, checks it too). */
const tensorMetadata = Type.Object(
  { name: Type.String({ maxLength: 1024 }), datatype: Type.String({ maxLength: 16 }), shape: Type.Array(Type.Integer({ minimum: -1 }), { maxItems: 64 }) },
  strict,
);
export const SignatureReferenceSchema = Type.Object(
  {
    version,
    signature: Type.Object({ inputs: Type.Array(tensorMetadata, { maxItems: 10_000 }), outputs: Type.Array(tensorMetadata, { maxItems: 10_000 }) }, strict),
  },
  strict,
);

/** The value each namespace holds under a key (a model, endpoint or job id). */
const VALUE_SCHEMAS: Record<string, TSchema> = {
  [STATE_NAMESPACES.labels]: byName(Type.Object({ version, history: Type.Array(version, { maxItems: 1000 }) }, strict)),
  [STATE_NAMESPACES.explicit]: Type.Object({ loaded: Type.Boolean(), config: Type.Optional(Type.Object({}, { additionalProperties: true })) }, strict),
  [STATE_NAMESPACES.models]: Type.Object({ lastKnownGood: Type.Optional(version), signatureReference: Type.Optional(SignatureReferenceSchema) }, strict),
  [STATE_NAMESPACES.endpoints]: Type.Object(
    {
      config: Type.Optional(Type.Object({}, { additionalProperties: true })),
      configHash: Type.Optional(Type.String()),
      state: Type.Optional(
        Type.Object(
          {
            active: Type.Optional(Type.Enum(['blue', 'green'] as const)),
            canary: Type.Optional(
              Type.Object(
                {
                  status: Type.Enum(['running', 'paused', 'promoted', 'rolled-back'] as const),
                  stage: Type.Integer({ minimum: 0 }),
                  stageStartedMs: Type.Number({ minimum: 0 }),
                  history: Type.Array(Type.Object({ atMs: Type.Number(), from: Type.String(), to: Type.String(), reason: Type.String() }, strict)),
                },
                strict,
              ),
            ),
          },
          strict,
        ),
      ),
    },
    strict,
  ),
  [STATE_NAMESPACES.batchJobs]: Type.Object({ startedAtMs: Type.Number({ minimum: 0 }) }, strict),
};

/** The schema of a snapshot's `entries`: known namespaces only, each a map of keys to its values. */
export const SnapshotEntriesSchema = Type.Object(
  Object.fromEntries(Object.entries(VALUE_SCHEMAS).map(([namespace, value]) => [namespace, Type.Optional(byName(value))])),
  strict,
);

/**
 * Every problem of a snapshot's `entries`, with paths from `entries` (`entries.labels.iris.stable.version`).
 * Endpoint configurations are compiled as the endpoints would compile them at start-up.
 */
export function snapshotEntriesProblems(entries: unknown): ConfigProblem[] {
  const problems = checkAgainstSchema(SnapshotEntriesSchema, entries).map((p) => ({ path: p.path === '' ? 'entries' : `entries.${p.path}`, message: p.message }));
  if (problems.length > 0) return problems;
  // A load's config override is a model config: checked as one, its files relative and inside
  // the model's folder (the folder itself is checked again when the model compiles it).
  const explicit = (entries as Record<string, Record<string, { config?: unknown }> | undefined>)[STATE_NAMESPACES.explicit] ?? {};
  for (const [model, saved] of Object.entries(explicit)) {
    if (saved.config === undefined) continue;
    const at = `entries.${STATE_NAMESPACES.explicit}.${model}.config`;
    const invalid = checkAgainstSchema(ModelConfigSchema, saved.config);
    problems.push(...invalid.map((p) => ({ path: p.path === '' ? at : `${at}.${p.path}`, message: p.message })));
    if (invalid.length > 0) continue;
    const config = saved.config as { warmup?: { samplesFile?: string }; drift?: { baselineFile?: string } };
    for (const [field, file] of [['warmup.samplesFile', config.warmup?.samplesFile], ['drift.baselineFile', config.drift?.baselineFile]] as const) {
      if (file !== undefined && (path.isAbsolute(file) || file.split(/[\\/]/).includes('..'))) {
        problems.push({ path: `${at}.${field}`, message: `${JSON.stringify(file)} leaves the model's folder; expected a path relative to it that stays inside` });
      }
    }
  }
  const endpoints = (entries as Record<string, Record<string, { config?: unknown }> | undefined>)[STATE_NAMESPACES.endpoints] ?? {};
  for (const [name, saved] of Object.entries(endpoints)) {
    if (saved.config === undefined) continue;
    try {
      compileEndpointConfig(name, saved.config, 'snapshot');
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const at = `entries.${STATE_NAMESPACES.endpoints}.${name}.config`;
      problems.push(...err.problems.map((p) => ({ path: p.path === '' ? at : `${at}.${p.path}`, message: p.message })));
    }
  }
  return problems;
}

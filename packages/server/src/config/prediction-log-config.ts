// The prediction log's settings: where records go (server-wide, in sibyl.yaml) and what each
// model records (in its config.yaml). Compiled with the documents they belong to.
import Type, { type Static } from 'typebox';
import { fieldDefault, schemaDefaults } from './schema-defaults.ts';

export const PREDICTION_LOG_SINKS = ['sqlite', 'jsonl', 'postgres'] as const;
export type PredictionLogSink = (typeof PREDICTION_LOG_SINKS)[number];

export const FIELD_RULES = ['keep', 'drop', 'hash'] as const;
export type FieldRule = (typeof FIELD_RULES)[number];

export const PredictionLogServerSchema = Type.Object(
  {
    sink: Type.Enum(PREDICTION_LOG_SINKS, {
      default: 'sqlite', description: 'Where prediction records are written: sqlite (a local file), jsonl (JSON Lines, one record a line) or postgres.',
    }),
    path: Type.String({
      default: '', description: "File of the sqlite or jsonl sink, created on the first record. '': sibyl-predictions.sqlite (or .jsonl) in the working directory.",
    }),
    postgresUrl: Type.String({ default: '', description: "Connection string of the postgres sink (postgres://user@host:5432/db); '' uses the PG* environment variables." }),
    postgresTable: Type.String({
      minLength: 1,
      pattern: '^[A-Za-z_][A-Za-z0-9_]{0,62}$',
      default: 'sibyl_predictions', description: 'Table of the postgres sink, created if missing.',
    }),
    hashKey: Type.String({
      default: '',
        description:
        "Secret key of the HMAC-SHA256 that `hash` field rules apply. '' makes a random key at start (hashes then differ between runs). Set it through SIBYL_PREDICTION_LOG_HASH_KEY rather than a file.",
    }),
    queueRecords: Type.Integer({
      minimum: 1,
      maximum: 1_000_000,
      default: 10000, description: 'Most records waiting to be written; beyond it records are dropped (and counted), never the request slowed.',
    }),
    flushIntervalMs: Type.Integer({ minimum: 1, maximum: 60_000, default: 200, description: 'How often waiting records are written, in ms.' }),
    writeTimeoutMs: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 600_000,
        default: 10000,
          description:
          'Longest wait for the sink to write a batch; a batch not written by then counts as failed and the log is reported degraded (a database that stops answering must not stall the log); until that write answers, later batches fail at once, so at most one batch waits on the sink.',
      }),
    ),
    retentionDays: Type.Number({
      minimum: 0,
      maximum: 36_500,
      default: 30, description: 'Records older than this are deleted (checked hourly and at start), unless a model sets its own. 0: kept forever.',
    }),
  },
  { additionalProperties: false, description: 'The prediction log sink, shared by every model that logs predictions.' },
);

export type PredictionLogServerConfig = Readonly<Static<typeof PredictionLogServerSchema>>;

/** Default of writeTimeoutMs (an optional field: the sink applies it). */
export const PREDICTION_LOG_WRITE_TIMEOUT_MS = fieldDefault<number>(PredictionLogServerSchema, 'writeTimeoutMs');

/** The schema's defaults (of the required fields: writeTimeoutMs stays absent, as in a file that leaves it out). */
export function predictionLogServerDefaults(): PredictionLogServerConfig {
  return schemaDefaults(PredictionLogServerSchema) as PredictionLogServerConfig;
}

export const PredictionLogModelSchema = Type.Object(
  {
    sampleRate: Type.Number({ minimum: 0, maximum: 1, default: 0, description: 'Share of requests recorded, from 0 (none) to 1 (all).' }),
    fields: Type.Optional(
      Type.Record(Type.String(), Type.Enum(FIELD_RULES), {
        description: 'Rule per input or output name: keep (as sent), drop (never recorded) or hash (each element replaced by its keyed HMAC-SHA256).',
      }),
    ),
    defaultRule: Type.Optional(Type.Enum(FIELD_RULES, { default: 'keep', description: 'Rule for inputs and outputs that fields does not name.' })),
    retentionDays: Type.Optional(Type.Number({ minimum: 0, maximum: 36_500, description: "Records of this model older than this are deleted. Default: the server's predictionLog.retentionDays." })),
  },
  { additionalProperties: false, description: 'Sampled records of requests and answers (see docs/observability.md).' },
);

export interface ModelPredictionLogConfig {
  readonly sampleRate: number;
  readonly fields: Readonly<Record<string, FieldRule>>;
  readonly defaultRule: FieldRule;
  /** undefined: the server's retentionDays. */
  readonly retentionDays: number | undefined;
}

/** What a model's prediction log section leaves out, from the schema. */
const MODEL_DEFAULT = {
  sampleRate: fieldDefault<number>(PredictionLogModelSchema, 'sampleRate'),
  defaultRule: fieldDefault<FieldRule>(PredictionLogModelSchema, 'defaultRule'),
};

export function compileModelPredictionLog(doc: Static<typeof PredictionLogModelSchema> | undefined): ModelPredictionLogConfig {
  return Object.freeze({
    sampleRate: doc?.sampleRate ?? MODEL_DEFAULT.sampleRate,
    fields: Object.freeze({ ...(doc?.fields ?? {}) }),
    defaultRule: doc?.defaultRule ?? MODEL_DEFAULT.defaultRule,
    retentionDays: doc?.retentionDays,
  });
}

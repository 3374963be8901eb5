// The prediction store's settings (server-wide, in sibyl.yaml): where batch jobs write their
// predictions and where lookups and hybrid endpoints read them.
import Type, { type Static } from 'typebox';
import { fieldDefault, schemaDefaults } from './schema-defaults.ts';

export const PREDICTION_STORE_BACKENDS = ['sqlite', 'postgres'] as const;
export type PredictionStoreBackend = (typeof PREDICTION_STORE_BACKENDS)[number];

export const PredictionStoreConfigSchema = Type.Object(
  {
    backend: Type.Enum(PREDICTION_STORE_BACKENDS, { default: 'sqlite', description: 'Where predictions are stored: sqlite (a local file) or postgres (shared).' }),
    path: Type.String({
      minLength: 1,
      default: '.sibyl/predictions.sqlite', description: "sqlite: the file, created with its folder if missing (relative to the working directory); ':memory:' keeps predictions for the life of the process only.",
    }),
    url: Type.String({ default: '', description: "postgres: connection string (postgres://user@host:5432/db); '' uses the PG* environment variables." }),
    tablePrefix: Type.String({
      pattern: '^[A-Za-z_][A-Za-z0-9_]{0,40}$',
      default: 'sibyl_', description: 'postgres: start of the tables\u2019 names (<prefix>predictions, <prefix>batch_jobs, <prefix>batch_chunks), created if missing.',
    }),
    readTimeoutMs: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 600_000,
        default: 5000,
          description:
          'Longest wait for a read (a lookup, a job record) before it fails with 503 PREDICTION_STORE_UNAVAILABLE and the store is reported degraded: a database that stops answering must not hang requests.',
      }),
    ),
  },
  { additionalProperties: false, description: 'The prediction store: written by batch jobs, read by GET /v1/predictions and hybrid endpoints (see docs/predictions.md).' },
);

export type PredictionStoreConfig = Readonly<Static<typeof PredictionStoreConfigSchema>>;

/** Default of readTimeoutMs (an optional field: the store applies it). */
export const PREDICTION_STORE_READ_TIMEOUT_MS = fieldDefault<number>(PredictionStoreConfigSchema, 'readTimeoutMs');

/** The schema's defaults (of the required fields: readTimeoutMs stays absent, as in a file that leaves it out). */
export function predictionStoreDefaults(): PredictionStoreConfig {
  return schemaDefaults(PredictionStoreConfigSchema) as PredictionStoreConfig;
}

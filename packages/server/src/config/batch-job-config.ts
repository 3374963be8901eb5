// A batch job's spec (job.yaml): where the rows come from, how their columns become model inputs,
// which model or endpoint scores them and where the predictions go. compileBatchJob turns a
// document into a frozen BatchJob with every path made absolute (relative paths are relative to
// the job file's folder), so the compiled job's `document` can be stored with the job record and
// compiled again anywhere (resume, jobs started through the API or by a schedule).
import path from 'node:path';
import Type, { type Static } from 'typebox';
import { NAME_RULE, nameProblem } from '@sibyl/protocol';
import { fieldDefault } from './schema-defaults.ts';
import { ConfigError, validateConfig, type ConfigProblem } from './validate.ts';
import { readYamlFile } from './yaml-file.ts';

const file = (what: string): ReturnType<typeof Type.String> => Type.String({ minLength: 1, description: `${what}; relative to the job file's folder.` });
const query = Type.String({ minLength: 1, description: 'The SQL query whose result rows are the data set. Its row order must be stable (ORDER BY) for resume to skip the right chunks.' });

const SourceSchema = Type.Object(
  {
    csv: Type.Optional(file('A CSV file with a header row')),
    jsonl: Type.Optional(file('A JSON Lines file: one JSON object per line')),
    parquet: Type.Optional(file('A Parquet file')),
    sql: Type.Optional(
      Type.Object(
        {
          sqlite: Type.Optional(file('A SQLite database file')),
          postgres: Type.Optional(Type.String({ minLength: 1, description: 'A PostgreSQL URL, e.g. postgres://user@host:5432/db.' })),
          connection: Type.Optional(
            Type.String({ minLength: 1, description: "A database of the server's sandbox.connections, by name (the only kind of SQL source a job sent over the API may use)." }),
          ),
          query,
          connectTimeoutMs: Type.Optional(
            Type.Integer({ minimum: 1, maximum: 600_000, default: 10000, description: 'postgres: the TCP connection and the handshake must finish within this time, or the job fails saying so.' }),
          ),
          queryTimeoutMs: Type.Optional(
            Type.Integer({ minimum: 1, maximum: 86_400_000, default: 300000, description: 'postgres: each round trip of the query (a fetch of rows; the first includes planning and sorting) must answer within this time, or the job fails saying so.' }),
          ),
        },
        { additionalProperties: false, description: "A SQL query against SQLite (sqlite: file), PostgreSQL (postgres: url) or a named connection of the server (connection: name)." },
      ),
    ),
  },
  { additionalProperties: false, description: 'Where the rows come from: exactly one of csv, jsonl, parquet or sql.' },
);

const InputSchema = Type.Object(
  {
    columns: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: "Columns whose values, in this order, are the row's elements of the input." })),
    column: Type.Optional(Type.String({ minLength: 1, description: "One column holding the row's whole input: a value, or an array (a JSON array in CSV text)." })),
  },
  { additionalProperties: false, description: 'Exactly one of columns or column.' },
);

export const BatchJobSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', description: "The job's name: letters, digits, '_', '-', '.'. Runs of the same name form its history." }),
    source: SourceSchema,
    key: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], {
      description: "The key column, or several whose values are joined with '|': what predictions are looked up by.",
    }),
    inputs: Type.Record(Type.String({ minLength: 1 }), InputSchema, { description: 'Model input name → the columns that fill it.' }),
    target: Type.Object(
      {
        model: Type.Optional(Type.String({ minLength: 1, description: 'The model that scores the rows.' })),
        version: Type.Optional(Type.Integer({ minimum: 1, description: 'A version of the model (default: its default route).' })),
        label: Type.Optional(Type.String({ minLength: 1, description: 'A label of the model instead of a version.' })),
        endpoint: Type.Optional(Type.String({ minLength: 1, description: 'An endpoint of sibyl.yaml instead of a model: its traffic policy picks the versions.' })),
      },
      { additionalProperties: false, description: 'Exactly one of model (with version or label) or endpoint.' },
    ),
    outputs: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'Outputs to store. Default: every output of the model.' })),
    store: Type.Optional(
      Type.Object(
        {
          sqlite: Type.Optional(file('A SQLite prediction store file')),
          postgres: Type.Optional(Type.String({ minLength: 1, description: 'A PostgreSQL URL of the prediction store.' })),
        },
        { additionalProperties: false, description: 'Where predictions go: sqlite (default .sibyl/predictions.sqlite) or postgres.' },
      ),
    ),
    chunkRows: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000, default: 10000, description: 'Rows per chunk, the unit of commit and resume. A chunk also ends early once its records reach chunkBytes.' })),
    chunkBytes: Type.Optional(
      Type.Integer({
        minimum: 1024,
        maximum: 1_073_741_824,
        default: 16777216,
        description:
          "A chunk ends once its records hold this many bytes, even before chunkRows rows (a record is never split: a chunk holds at least one), so a job's memory stays a few chunks of this size however wide its rows are. The cut is deterministic (the same file and settings give the same chunks), so resume, which compiles the job's recorded spec again, skips the right chunks. Bytes are a CSV record's bytes in the file, else the row's values (strings by length, numbers 8). Parquet sources cut by rows only (their row groups, bounded by maxRowGroupBytes, are read whole). A job holds several chunks at once (being read ahead, scored, committed, their rejects written), each costing a few times its bytes, so about 10 to 20 times chunkBytes in all. Rows narrower than 1.6 KiB still make chunks of chunkRows at the default.",
      }),
    ),
    requestRows: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1_000_000, description: "Rows per inference request. Default: the model's maxBatchSize when it sets one in config.yaml, else 4096 (1 for models that do not batch)." }),
    ),
    concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 256, description: 'Inference requests in flight at once. Default: twice the instances of the model, at least 2.' })),
    rejects: Type.Optional(
      file('JSON Lines file bad rows are appended to, with their reason. Default: <name>.rejects.jsonl beside the job file; for a spec sent to the server (POST /v1/batch/jobs), in the rejects folder beside its state store (.sibyl/rejects by default)'),
    ),
    maxRecordBytes: Type.Optional(
      Type.Integer({
        minimum: 1024,
        maximum: 1_073_741_824,
        default: 8388608,
        description:
          'The longest record a source may hold, in bytes: a CSV row, a JSON Lines line, a SQL row (its values). A longer one fails the job with a message naming the file, the row or line and this limit (memory never holds more than the limit per record).',
      }),
    ),
    maxRowGroupBytes: Type.Optional(
      Type.Integer({
        minimum: 1024,
        maximum: 4_294_967_296,
        default: 536870912,
        description: "Parquet: the most a row group may hold of the columns the job reads (uncompressed, as the file's metadata says), and the largest single read of the file. A larger one fails the job.",
      }),
    ),
  },
  { additionalProperties: false, title: 'Sibyl batch job' },
);

export type BatchJobDocument = Static<typeof BatchJobSchema>;

/** `connection`: the name of the server's connection the source came from (its URL or file is not the caller's). */
export type BatchSourceSpec =
  | { readonly kind: 'csv' | 'jsonl' | 'parquet'; readonly path: string }
  | { readonly kind: 'sqlite'; readonly path: string; readonly query: string; readonly connection?: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly query: string; readonly connectTimeoutMs?: number; readonly queryTimeoutMs?: number; readonly connection?: string };

/** A database a job may name by `source.sql.connection` (sibyl.yaml's sandbox.connections; a sqlite path absolute). */
export type NamedConnection = { readonly postgres: string } | { readonly sqlite: string };

/** How one model input is filled from a row. */
export type InputMapping = { readonly input: string; readonly columns: readonly string[] } | { readonly input: string; readonly column: string };

export type BatchTarget = { readonly kind: 'model'; readonly model: string; readonly version?: number; readonly label?: string } | { readonly kind: 'endpoint'; readonly endpoint: string };

export type PredictionStoreSpec = { readonly kind: 'sqlite'; readonly path: string } | { readonly kind: 'postgres'; readonly url: string };

export interface BatchJob {
  readonly name: string;
  readonly source: BatchSourceSpec;
  /** Key columns, in order (their values are joined with KEY_SEPARATOR). */
  readonly key: readonly string[];
  readonly inputs: readonly InputMapping[];
  readonly target: BatchTarget;
  /** Undefined: every output of the model. */
  readonly outputs?: readonly string[];
  readonly store: PredictionStoreSpec;
  readonly chunkRows: number;
  /** A chunk ends once its records reach this many bytes (see the schema). */
  readonly chunkBytes: number;
  /** Undefined: from the model (see requestRows in the schema). */
  readonly requestRows?: number;
  readonly concurrency?: number;
  /** Absolute path of the reject file. */
  readonly rejectsPath: string;
  /** Undefined: the sources' default (DEFAULT_MAX_RECORD_BYTES). */
  readonly maxRecordBytes?: number;
  /** Undefined: the Parquet source's default (DEFAULT_MAX_ROW_GROUP_BYTES). */
  readonly maxRowGroupBytes?: number;
  /** The name predictions are stored under: the model's, or the endpoint's. */
  readonly predictionModel: string;
  /** The document with every path absolute: what the job record keeps, and compiles again to this job. */
  readonly document: BatchJobDocument;
}

export const DEFAULT_CHUNK_ROWS = fieldDefault<number>(BatchJobSchema, 'chunkRows');
/**
 * Default chunkBytes. Part of every job's chunk boundaries (resume skips chunks by index), so a
 * compiled job's document (what its record keeps) states the value it ran with: a resume cuts the
 * same chunks whatever the default is then, and a record from before chunkBytes existed (no
 * value) is not the same spec as a job compiled now, so the CLI does not resume it by accident.
 */
export const DEFAULT_CHUNK_BYTES = fieldDefault<number>(BatchJobSchema, 'chunkBytes');
/** The prediction store when the job names none, relative to the job file's folder. */
export const DEFAULT_STORE_FILE = '.sibyl/predictions.sqlite';

const absolute = (baseDir: string, p: string): string => (path.isAbsolute(p) ? p : path.resolve(baseDir, p));

/**
 * Validates a job document and compiles it. `source` names the file (or request) in errors;
 * relative paths resolve against `baseDir` (default: the folder of `source`). A job without
 * `rejects` writes `<name>.rejects.jsonl` in `rejectsDir` (default `baseDir`).
 * @throws ConfigError naming the source, the field and what is allowed.
 */
export function compileBatchJob(
  document: unknown,
  source: string,
  baseDir: string = path.dirname(path.resolve(source)),
  rejectsDir: string = baseDir,
  connections: Readonly<Record<string, NamedConnection>> = {},
): BatchJob {
  const doc = validateConfig<BatchJobDocument>(BatchJobSchema, document ?? {}, source);
  const problems: ConfigProblem[] = [];
  const resolved = structuredClone(doc);

  const kinds = (['csv', 'jsonl', 'parquet', 'sql'] as const).filter((k) => doc.source[k] !== undefined);
  let sourceSpec: BatchSourceSpec | undefined;
  if (kinds.length !== 1) {
    problems.push({ path: 'source', message: `${kinds.length === 0 ? 'names no source' : `sets ${kinds.join(' and ')}`}; expected exactly one of csv, jsonl, parquet or sql` });
  } else if (kinds[0] === 'sql') {
    const sql = doc.source.sql!;
    const named = sql.connection === undefined ? undefined : connections[sql.connection];
    if ([sql.sqlite, sql.postgres, sql.connection].filter((v) => v !== undefined).length !== 1) {
      problems.push({ path: 'source.sql', message: 'expected exactly one of sqlite (a database file), postgres (a URL) or connection (a name of the server\'s sandbox.connections)' });
    } else if (sql.connection !== undefined) {
      if (named === undefined || !Object.hasOwn(connections, sql.connection)) {
        problems.push({ path: 'source.sql.connection', message: `${JSON.stringify(sql.connection)} is not a connection of this server; expected a name of sandbox.connections in sibyl.yaml` });
      } else if ('sqlite' in named) {
        if (sql.connectTimeoutMs !== undefined || sql.queryTimeoutMs !== undefined) problems.push({ path: 'source.sql', message: 'sets connectTimeoutMs or queryTimeoutMs, which apply to a postgres source only (a SQLite file is local)' });
        sourceSpec = { kind: 'sqlite', path: named.sqlite, query: sql.query, connection: sql.connection };
      } else {
        sourceSpec = {
          kind: 'postgres',
          url: named.postgres,
          query: sql.query,
          connection: sql.connection,
          ...(sql.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: sql.connectTimeoutMs }),
          ...(sql.queryTimeoutMs === undefined ? {} : { queryTimeoutMs: sql.queryTimeoutMs }),
        };
      }
    } else if (sql.sqlite !== undefined) {
      if (sql.connectTimeoutMs !== undefined || sql.queryTimeoutMs !== undefined) problems.push({ path: 'source.sql', message: 'sets connectTimeoutMs or queryTimeoutMs, which apply to a postgres source only (a SQLite file is local)' });
      resolved.source.sql!.sqlite = absolute(baseDir, sql.sqlite);
      sourceSpec = { kind: 'sqlite', path: resolved.source.sql!.sqlite, query: sql.query };
    } else {
      sourceSpec = {
        kind: 'postgres',
        url: sql.postgres!,
        query: sql.query,
        ...(sql.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: sql.connectTimeoutMs }),
        ...(sql.queryTimeoutMs === undefined ? {} : { queryTimeoutMs: sql.queryTimeoutMs }),
      };
    }
  } else {
    const kind = kinds[0]!;
    const p = absolute(baseDir, doc.source[kind]!);
    resolved.source[kind] = p;
    sourceSpec = { kind, path: p };
  }

  const key = typeof doc.key === 'string' ? [doc.key] : doc.key;
  const dupKey = key.find((k, i) => key.indexOf(k) !== i);
  if (dupKey !== undefined) problems.push({ path: 'key', message: `column '${dupKey}' is named twice; expected distinct key columns` });

  const inputs: InputMapping[] = [];
  const inputNames = Object.keys(doc.inputs);
  if (inputNames.length === 0) problems.push({ path: 'inputs', message: 'is empty; expected at least one model input, e.g. {input: {columns: [a, b]}}' });
  for (const input of inputNames) {
    const m = doc.inputs[input]!;
    if ((m.columns === undefined) === (m.column === undefined)) {
      problems.push({ path: `inputs.${input}`, message: 'expected exactly one of columns (a list of columns) or column (one column holding the whole input)' });
      continue;
    }
    inputs.push(m.columns !== undefined ? Object.freeze({ input, columns: Object.freeze([...m.columns]) }) : Object.freeze({ input, column: m.column! }));
  }

  const t = doc.target;
  let target: BatchTarget | undefined;
  for (const field of ['model', 'endpoint', 'label'] as const) {
    const problem = t[field] === undefined ? undefined : nameProblem(t[field]);
    if (problem !== undefined) problems.push({ path: `target.${field}`, message: `${problem}; ${NAME_RULE}` });
  }
  if ((t.model === undefined) === (t.endpoint === undefined)) {
    problems.push({ path: 'target', message: 'expected exactly one of model (with an optional version or label) or endpoint' });
  } else if (t.endpoint !== undefined) {
    if (t.version !== undefined || t.label !== undefined) problems.push({ path: 'target', message: "sets version or label with endpoint; an endpoint's policy picks the versions" });
    target = { kind: 'endpoint', endpoint: t.endpoint };
  } else {
    if (t.version !== undefined && t.label !== undefined) problems.push({ path: 'target', message: 'sets both version and label; expected one of them, or neither for the default route' });
    target = { kind: 'model', model: t.model!, ...(t.version === undefined ? {} : { version: t.version }), ...(t.label === undefined ? {} : { label: t.label }) };
  }

  let store: PredictionStoreSpec;
  const s = doc.store;
  if (s !== undefined && (s.sqlite === undefined) === (s.postgres === undefined)) {
    problems.push({ path: 'store', message: 'expected exactly one of sqlite (a file) or postgres (a URL)' });
    store = { kind: 'sqlite', path: '' };
  } else if (s?.postgres !== undefined) {
    store = { kind: 'postgres', url: s.postgres };
  } else {
    const p = absolute(baseDir, s?.sqlite ?? DEFAULT_STORE_FILE);
    resolved.store = { sqlite: p };
    store = { kind: 'sqlite', path: p };
  }

  const rejectsPath = doc.rejects === undefined ? path.resolve(rejectsDir, `${doc.name}.rejects.jsonl`) : absolute(baseDir, doc.rejects);
  resolved.rejects = rejectsPath;
  const chunkBytes = doc.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  resolved.chunkBytes = chunkBytes;
  if (problems.length > 0 || sourceSpec === undefined || target === undefined) throw new ConfigError(source, problems);
  return Object.freeze({
    name: doc.name,
    source: Object.freeze(sourceSpec),
    key: Object.freeze([...key]),
    inputs: Object.freeze(inputs),
    target: Object.freeze(target),
    ...(doc.outputs === undefined ? {} : { outputs: Object.freeze([...doc.outputs]) }),
    store: Object.freeze(store),
    chunkRows: doc.chunkRows ?? DEFAULT_CHUNK_ROWS,
    chunkBytes,
    ...(doc.requestRows === undefined ? {} : { requestRows: doc.requestRows }),
    ...(doc.concurrency === undefined ? {} : { concurrency: doc.concurrency }),
    rejectsPath,
    ...(doc.maxRecordBytes === undefined ? {} : { maxRecordBytes: doc.maxRecordBytes }),
    ...(doc.maxRowGroupBytes === undefined ? {} : { maxRowGroupBytes: doc.maxRowGroupBytes }),
    predictionModel: target.kind === 'model' ? target.model : target.endpoint,
    document: resolved,
  });
}

/** Reads and compiles a job.yaml. @throws ConfigError naming the file, the field and what is allowed. */
export async function loadBatchJobFile(file: string): Promise<BatchJob> {
  return compileBatchJob(await readYamlFile(file), file);
}

// A batch job's source: the rows of a data set, read in chunks of at most `chunkRows` rows and
// (except Parquet) ending once their records reach `chunkBytes`, so that memory stays bounded
// whatever the data set's size and width, and so that chunk N is the same rows on every read
// (resuming a job skips committed chunks by index). Adapters: CSV, JSON Lines and Parquet
// files; a SQL query against SQLite or PostgreSQL.

/** A row as the source read it: column name → value (strings from CSV, JSON values otherwise). */
export type SourceRow = Record<string, unknown>;

export interface SourceChunk {
  /** 0, 1, 2, … in source order. */
  index: number;
  /** The rows (a source that sets `columns` may build them only when read: prefer `columns`). */
  rows: SourceRow[];
  /**
   * The same rows column by column, when the source parses straight into numbers (CSV): no
   * object per row on the hot path. Absent: read `rows`.
   */
  columns?: ChunkColumns;
  /** Where the chunk's first row is in the source (line number of a file, row number of a query), for reject messages. */
  firstRowNumber: number;
}

/** Column-major values of a chunk. */
export interface ChunkColumns {
  readonly rowCount: number;
  /** The column's values, or undefined when the source has no such column (or was told not to read it). */
  get(name: string): ColumnValues | undefined;
}

/** One column of a chunk: per row, a number (parsed) or the field's text. */
export interface ColumnValues {
  /** The field's value where it is a plain decimal number; NaN where `texts` holds it. */
  readonly numbers: Float64Array;
  /** The field's text where `numbers` is NaN (a non-numeric field, an empty one, a text column); undefined elsewhere. */
  readonly texts: readonly (string | undefined)[];
}

/** How a source cuts its chunks. */
export interface ChunkOptions {
  chunkRows: number;
  /** A chunk ends once its records reach this many bytes. Default: no byte bound. */
  chunkBytes?: number;
  skip?: ReadonlySet<number>;
  signal?: AbortSignal;
}

export interface BatchSource {
  /**
   * The chunks in order, `chunkRows` rows each, or fewer when their records reach `chunkBytes`
   * first (at least one record each; deterministic: the same data gives the same chunks; Parquet
   * ignores chunkBytes). Chunks in `skip` are read past without being yielded (their rows are not
   * materialised where the format allows). Stops early when the signal aborts.
   */
  chunks(options: ChunkOptions): AsyncIterable<SourceChunk>;
  /** Rows in the source when cheap to know in advance (Parquet metadata, SQL COUNT), for ETA. Stops early when the signal aborts. */
  countRows?(signal?: AbortSignal): Promise<number | undefined>;
  close(): Promise<void>;
}

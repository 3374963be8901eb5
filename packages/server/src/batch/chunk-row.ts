// Rows of column-major chunks: one row as a row object (for reject records) without building every
// row, and a chunk whose `rows` are built only when read. The CSV source and distributed workers
// (which receive the CSV scanner's columns) make their chunks here, so their rows read alike.
import type { ChunkColumns, SourceChunk, SourceRow } from './source.ts';

/** Column-major values whose column names are known (what CsvSource's chunks carry). */
export type NamedColumns = ChunkColumns & { readonly names: readonly string[] };

const hasNames = (c: ChunkColumns | undefined): c is NamedColumns => c !== undefined && Array.isArray((c as Partial<NamedColumns>).names);

/** Row `r` of named columns: column → its text (numbers as their shortest text, as CSV would spell them). */
export function rowOfColumns(columns: NamedColumns, r: number): SourceRow {
  const row: SourceRow = {};
  for (const name of columns.names) {
    const c = columns.get(name)!;
    const text = c.texts[r];
    if (text !== undefined) row[name] = text;
    else if (!Number.isNaN(c.numbers[r]!)) row[name] = String(c.numbers[r]);
  }
  return row;
}

/** Row `r` of a chunk. */
export function rowAt(chunk: SourceChunk, r: number): SourceRow {
  return hasNames(chunk.columns) ? rowOfColumns(chunk.columns, r) : (chunk.rows[r] ?? {});
}

/** A chunk of named columns; its `rows` are built on first read (rejects and row sources rarely need them). */
export function columnarChunk(index: number, firstRowNumber: number, columns: NamedColumns): SourceChunk {
  let rows: SourceRow[] | undefined;
  return {
    index,
    firstRowNumber,
    columns,
    get rows(): SourceRow[] {
      rows ??= Array.from({ length: columns.rowCount }, (_, r) => rowOfColumns(columns, r));
      return rows;
    },
    set rows(value: SourceRow[]) {
      rows = value;
    },
  };
}

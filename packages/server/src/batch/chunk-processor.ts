// Scoring one chunk: the unit of work of a batch job, the same in a single-process run and on a
// distributed worker. Its rows are mapped to model inputs by the online path's code, scored in
// requests of the model's batch size, and committed to the prediction store in one transaction
// with the chunk's index (so a chunk scored twice replaces its rows). Rows that cannot be mapped
// or scored are rejected with their reason; the chunk goes on.
import type { SourceChunk } from './source.ts';

/** A row that was not scored, and why. */
export interface RejectedRow {
  /** Row number in the source (line of a file, row of a query result). */
  rowNumber: number;
  /** The row's key when it could be read. */
  key?: string;
  reason: string;
  row: Record<string, unknown>;
}

export interface ChunkOutcome {
  chunkIndex: number;
  rowsRead: number;
  rowsWritten: number;
  rejected: RejectedRow[];
}

/** Scores and commits one chunk of a job. Throws only when the chunk cannot be committed at all (the store or the model is unavailable). */
export type ChunkProcessor = (jobId: string, chunk: SourceChunk, signal?: AbortSignal) => Promise<ChunkOutcome>;

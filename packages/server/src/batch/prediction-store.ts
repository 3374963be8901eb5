// The prediction store: where batch jobs write predictions and where serving reads them back by
// key (lookups, hybrid serving). It also keeps the jobs themselves — their records and which
// chunks each has committed — so that writing a chunk's predictions and marking the chunk done is
// one transaction: a job resumed after a crash skips exactly the chunks whose rows are stored,
// and a chunk scored twice (a retried or re-delivered chunk) replaces its rows, never duplicates
// them. The embedded default is a SQLite file (sqlite-prediction-store.ts); PostgreSQL is the
// shared option (postgres-prediction-store.ts). Both pass testing/prediction-store-contract.ts.

import type { PredictionLookup, StoredPrediction } from '../routing/stored-prediction.ts';

export type { StoredOutput, StoredPrediction } from '../routing/stored-prediction.ts';
export { KEY_SEPARATOR } from '../routing/stored-prediction.ts';

export type BatchJobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** What the store remembers of a job: its spec, status and counts. */
export interface BatchJobRecord {
  id: string;
  /** The job's name (from its spec); schedules run the same name many times. */
  name: string;
  status: BatchJobStatus;
  /** The job spec as given (JSON), so a job can be resumed or inspected. */
  spec: unknown;
  /** Where it was started: 'cli', 'api', 'schedule:<name>', 'distributed'. */
  origin: string;
  createdAtMs: number;
  startedAtMs?: number;
  finishedAtMs?: number;
  rowsRead: number;
  rowsWritten: number;
  rowsRejected: number;
  chunksCommitted: number;
  /** Chunks in the source, once known (the end of the source was reached). */
  chunksTotal?: number;
  /** Why the job failed or was cancelled. */
  error?: string;
}

export interface PredictionStore extends PredictionLookup {
  /**
   * Writes a chunk's predictions — replacing any stored for the same (model, key) — and marks
   * (jobId, chunkIndex) committed, in one transaction. Committing a chunk again replaces its
   * rows. Durable when the promise resolves.
   */
  commitChunk(jobId: string, chunkIndex: number, predictions: readonly StoredPrediction[]): Promise<void>;
  /** Indices of the chunks of a job that are committed. */
  committedChunks(jobId: string): Promise<Set<number>>;
  /** Creates or replaces a job's record. */
  saveJob(record: BatchJobRecord): Promise<void>;
  getJob(id: string): Promise<BatchJobRecord | undefined>;
  /** Newest first. */
  listJobs(options?: { limit?: number; name?: string }): Promise<BatchJobRecord[]>;
  close(): Promise<void>;
}

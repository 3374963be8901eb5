// The prediction store: where batch jobs write predictions and where serving reads them back by
// key (lookups, hybrid serving). It also keeps the jobs themselves — their records and which
// chunks each has committed — so that writing a chunk's predictions and marking the chunk done is
// one transaction: a job resumed after a crash skips exactly the chunks whose rows are stored,
// and a chunk scored twice (a retried or re-delivered chunk) replaces its rows, never duplicates
// them. The embedded default is a SQLite file (sqlite-prediction-store.ts); PostgreSQL is the
// shared option (postgres-prediction-store.ts). Both pass testing/prediction-store-contract.ts.

import type { BatchJobJson } from '@sibyl/protocol';
import type { PredictionLookup, StoredPrediction } from '../routing/stored-prediction.ts';

export type { StoredOutput, StoredPrediction } from '../routing/stored-prediction.ts';
export { KEY_SEPARATOR } from '../routing/stored-prediction.ts';

export type { BatchJobStatus } from '@sibyl/protocol';

/**
 * What the store remembers of a job: its spec, status and counts — the API's job shape
 * (@sibyl/protocol BatchJobJson, which documents each field) without what only a running server
 * adds (queue position, live progress).
 */
export type BatchJobRecord = Omit<BatchJobJson, 'queuePosition' | 'progress'>;

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

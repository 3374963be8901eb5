// How a job's record evolves across runs: which earlier run a new run continues, and what a
// committed chunk adds to its counts, and its id. Shared by the single-process and the distributed
// runner and the server's job manager.
import { randomBytes } from 'node:crypto';
import { SibylError } from '@sibyl/protocol';
import type { BatchJob } from '../config/batch-job-config.ts';
import type { ChunkOutcome } from './chunk-processor.ts';
import type { BatchJobRecord, PredictionStore } from './prediction-store.ts';

/**
 * The earlier run a new run of `job` resumes: the one `jobId` names, else (unless `fresh`) the
 * newest run of the same name whose spec is the same and which neither succeeded nor was
 * cancelled; undefined when the run starts anew.
 * @throws SibylError BATCH_JOB_NOT_FOUND when `jobId` names no job; BATCH_JOB_INVALID when it names another job's run.
 */
export async function jobToResume(job: BatchJob, store: PredictionStore, options: { jobId?: string; fresh?: boolean }): Promise<BatchJobRecord | undefined> {
  if (options.jobId !== undefined) {
    const named = await store.getJob(options.jobId);
    if (named === undefined) throw new SibylError('BATCH_JOB_NOT_FOUND', `no batch job '${options.jobId}' in the prediction store; \`sibyl batch jobs\` lists them`);
    if (named.name !== job.name) throw new SibylError('BATCH_JOB_INVALID', `batch job '${options.jobId}' is job '${named.name}', not '${job.name}'; resume it with its own job file`);
    return named;
  }
  if (options.fresh === true) return undefined;
  const [newest] = await store.listJobs({ name: job.name, limit: 1 });
  const unfinished = newest !== undefined && newest.status !== 'succeeded' && newest.status !== 'cancelled';
  return unfinished && JSON.stringify(newest.spec) === JSON.stringify(job.document) ? newest : undefined;
}

/** The record with one more committed chunk counted. */
export function countChunk(record: BatchJobRecord, outcome: Pick<ChunkOutcome, 'rowsRead' | 'rowsWritten' | 'rejected'>): BatchJobRecord {
  return {
    ...record,
    rowsRead: record.rowsRead + outcome.rowsRead,
    rowsWritten: record.rowsWritten + outcome.rowsWritten,
    rowsRejected: record.rowsRejected + outcome.rejected.length,
    chunksCommitted: record.chunksCommitted + 1,
  };
}

/** A job id that sorts by start time: 20260104T020000-1a2b3c. */
export function newJobId(epochMs: number): string {
  return `${new Date(epochMs).toISOString().replace(/[-:]/g, '').slice(0, 15)}-${randomBytes(3).toString('hex')}`;
}

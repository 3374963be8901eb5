// `sibyl batch run --distributed` below the command line: opens the job's source (keeping as
// text the columns a single-process run keeps as text) and prediction store, creates or resumes
// the job's record, runs the coordinator, and appends rejected rows to the job's reject file as the single-process runner does.
import type { Logger } from 'pino';
import type { BatchJob } from '../../config/batch-job-config.ts';
import type { Clock } from '../../core/clock.ts';
import { jobToResume, newJobId } from '../job-record.ts';
import { appendRejects } from '../reject-file.ts';
import type { BatchJobRecord, PredictionStore } from '../prediction-store.ts';
import { columnsOf, openSource } from '../sources/open-source.ts';
import { runDistributedJob, type DistributedRunProgress } from './coordinator.ts';

export interface DistributedJobOptions {
  /**
   * Columns the source keeps as text, as a single-process run of the job does (the row mapping's
   * textColumns(): keys, whole-column, BYTES and 64-bit integer inputs), so workers see the same values.
   */
  textColumns: readonly string[];
  redisUrl: string;
  prefix: string;
  /** Resume this job (it must exist and be of the same job). */
  jobId?: string;
  /** Start a new job even when an unfinished one of the same name and spec exists (by default it is resumed, as `sibyl batch run` does). */
  fresh?: boolean;
  maxQueuedChunks?: number;
  attempts?: number;
  signal?: AbortSignal;
  onProgress?: (progress: DistributedRunProgress & { rowsTotal?: number }) => void;
}

/** @throws SibylError when `jobId` names no job of this name. The job's failure is its record's status, not a throw. */
export async function runDistributedBatchJob(job: BatchJob, deps: { store: PredictionStore; clock: Clock; log: Logger }, options: DistributedJobOptions): Promise<BatchJobRecord> {
  const { store, clock, log } = deps;
  let record: BatchJobRecord;
  const previous = await jobToResume(job, store, options);
  if (previous !== undefined) {
    record = { ...previous, spec: job.document, origin: 'distributed' };
    log.info({ jobId: previous.id, chunksCommitted: previous.chunksCommitted }, `resuming batch job ${previous.id}`);
  } else {
    record = { id: newJobId(clock.epochMs()), name: job.name, status: 'queued', spec: job.document, origin: 'distributed', createdAtMs: clock.epochMs(), rowsRead: 0, rowsWritten: 0, rowsRejected: 0, chunksCommitted: 0 };
  }
  await store.saveJob(record);
  const columns = columnsOf(job);
  const source = openSource(job, options.textColumns);
  const rowsTotal = await source.countRows?.().catch(() => undefined);
  try {
    return await runDistributedJob({
      record,
      source,
      columns,
      chunkRows: job.chunkRows,
      chunkBytes: job.chunkBytes,
      store,
      descriptor: { spec: job.document },
      redisUrl: options.redisUrl,
      prefix: options.prefix,
      ...(options.maxQueuedChunks === undefined ? {} : { maxQueuedChunks: options.maxQueuedChunks }),
      ...(options.attempts === undefined ? {} : { attempts: options.attempts }),
      clock,
      log,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      onProgress: (p) => options.onProgress?.({ ...p, ...(rowsTotal === undefined ? {} : { rowsTotal }) }),
      onRejected: (rows, chunk) => appendRejects(job.rejectsPath, record.id, chunk, rows),
    });
  } finally {
    await source.close();
  }
}

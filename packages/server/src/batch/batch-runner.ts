// Runs a batch job in this process: creates (or resumes) its record in the prediction store,
// reads the source chunk by chunk — skipping the chunks the store has committed for the job —
// scores and commits each chunk (a few in flight, so reading, scoring and writing overlap while
// memory stays bounded), appends rejected rows to the reject file (before their chunk commits, so a crash loses none; a chunk scored again writes its lines again), and keeps the record's status
// and counts current. The CLI (`sibyl batch run`), the server's job API and schedules call
// runBatchJob; distributed workers share its ChunkProcessor.
//
// Idempotent: predictions are upserted by (model, key), so running a job again replaces them.
// Resumable: a job that crashed is run again under its id (explicitly, or by default the newest
// unfinished job of the same name and spec) and skips its committed chunks.
import type { Logger } from 'pino';
import { SibylError } from '@sibyl/protocol';
import type { BatchJob } from '../config/batch-job-config.ts';
import type { Clock } from '../core/clock.ts';
import type { BatchScorer } from './batch-scorer.ts';
import type { ChunkOutcome, ChunkProcessor } from './chunk-processor.ts';
import type { ColumnarCommit } from './columnar-predictions.ts';
import type { BatchJobRecord, PredictionStore } from './prediction-store.ts';
import { RowMapper } from './row-mapping.ts';
import { countChunk, jobToResume, newJobId } from './job-record.ts';
import { appendRejects } from './reject-file.ts';
import { createChunkProcessor } from './score-chunk.ts';
import type { BatchSource } from './source.ts';
import { openSource } from './sources/open-source.ts';

/** Rows per request for models that batch and whose config sets no maxBatchSize. */
export const DEFAULT_REQUEST_ROWS = 4096;
/** Chunks being scored or committed at once (bounds memory to a few chunks). */
const CHUNKS_IN_FLIGHT = 2;
/** Least time between saves of a running job's record (its counts); the final state is always saved. */
const RECORD_SAVE_INTERVAL_MS = 500;

export interface BatchRunDependencies {
  store: PredictionStore;
  scorer: BatchScorer;
  clock: Clock;
  log?: Logger;
  /** Commits chunks column by column instead of store.commitChunk (the CLI's SQLite commit thread); same store. */
  commit?: ColumnarCommit;
}

export interface BatchProgress {
  jobId: string;
  rowsRead: number;
  rowsWritten: number;
  rowsRejected: number;
  chunksCommitted: number;
  /** Chunks skipped because an earlier run of the job committed them. */
  chunksSkipped: number;
  /** Rows in the source when the source knows (Parquet, SQL), for an ETA. */
  rowsTotal?: number;
  /** Chunks in the source, once the end is reached. */
  chunksTotal?: number;
  /** Rows read by this run (not by earlier runs of a resumed job), and the time it has taken. */
  rowsThisRun: number;
  elapsedMs: number;
}

export interface BatchRunOptions {
  /** Resume this job (it must exist and have the same name). */
  jobId?: string;
  /** Start a new job even when an unfinished one of the same name and spec exists. Default false. */
  fresh?: boolean;
  /** Where the run was started: 'cli', 'api', 'schedule:<name>'. */
  origin: string;
  signal?: AbortSignal;
  onProgress?: (progress: BatchProgress) => void;
  /** Default: the source the job's spec names. */
  source?: BatchSource;
}

/**
 * Runs the job to its end and resolves with its final record: status succeeded, failed (error
 * says why) or cancelled (the signal aborted). Throws only when the job cannot be started (the
 * store fails, or `jobId` names no job of this name).
 */
export async function runBatchJob(job: BatchJob, deps: BatchRunDependencies, options: BatchRunOptions): Promise<BatchJobRecord> {
  const { store, clock, log } = deps;
  let record = await startRecord(job, store, clock, options);
  const jobLog = log?.child({ job: job.name, jobId: record.id });
  const resumed = record.chunksCommitted > 0;
  jobLog?.info({ resumed, chunksCommitted: record.chunksCommitted }, resumed ? `resuming batch job ${record.id}` : `starting batch job ${record.id}`);
  const save = async (patch: Partial<BatchJobRecord>): Promise<void> => {
    record = { ...record, ...patch };
    await store.saveJob(record);
  };

  const startedMs = clock.now();
  let rowsThisRun = 0;
  let chunksSkipped = 0;
  let rowsTotal: number | undefined;
  let source: BatchSource | undefined;
  try {
    const signature = await deps.scorer.signature();
    const mapper = new RowMapper(job.inputs, job.key, signature, job.predictionModel);
    checkJobOutputs(job, signature);
    const requestRows = signature.maxBatchSize <= 0 ? 1 : (job.requestRows ?? signature.configuredMaxBatchSize ?? DEFAULT_REQUEST_ROWS);
    const concurrency = job.concurrency ?? Math.max(2, 2 * signature.instanceCount);
    const processor: ChunkProcessor = createChunkProcessor({
      store,
      scorer: deps.scorer,
      mapper,
      clock,
      predictionModel: job.predictionModel,
      requestRows,
      concurrency,
      ...(job.outputs === undefined ? {} : { outputs: job.outputs }),
      ...(deps.commit === undefined ? {} : { commit: deps.commit }),
      // Rejects are appended before their chunk commits: at least once, never lost.
      beforeCommit: (chunkIndex, rejected) => appendRejects(job.rejectsPath, record.id, chunkIndex, rejected),
    });
    source = options.source ?? openSource(job, mapper.textColumns());
    rowsTotal = await source.countRows?.(options.signal).catch(() => undefined);
    const committed = await store.committedChunks(record.id);
    chunksSkipped = committed.size;
    const progress = (): void =>
      options.onProgress?.({
        jobId: record.id,
        rowsRead: record.rowsRead,
        rowsWritten: record.rowsWritten,
        rowsRejected: record.rowsRejected,
        chunksCommitted: record.chunksCommitted,
        chunksSkipped,
        ...(rowsTotal === undefined ? {} : { rowsTotal }),
        ...(record.chunksTotal === undefined ? {} : { chunksTotal: record.chunksTotal }),
        rowsThisRun,
        elapsedMs: clock.now() - startedMs,
      });
    progress();

    let lastIndex = committed.size === 0 ? -1 : Math.max(...committed);
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;
    let savedAtMs = clock.now();
    const finishChunk = async (outcome: ChunkOutcome): Promise<void> => {
      rowsThisRun += outcome.rowsRead;
      record = countChunk(record, outcome);
      // The record's counts are saved every RECORD_SAVE_INTERVAL_MS (the chunks themselves are committed already).
      if (clock.now() - savedAtMs >= RECORD_SAVE_INTERVAL_MS) {
        savedAtMs = clock.now();
        await save({});
      }
      progress();
    };
    for await (const chunk of source.chunks({ chunkRows: job.chunkRows, chunkBytes: job.chunkBytes, skip: committed, signal: options.signal })) {
      if (failure !== undefined || options.signal?.aborted) break;
      lastIndex = Math.max(lastIndex, chunk.index);
      const work = processor(record.id, chunk, options.signal)
        .then(finishChunk)
        .catch((err: unknown) => {
          failure ??= err;
        });
      const tracked = work.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      while (inFlight.size >= CHUNKS_IN_FLIGHT) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    if (options.signal?.aborted) {
      await save({ status: 'cancelled', finishedAtMs: clock.epochMs(), error: 'cancelled' });
      jobLog?.warn('batch job cancelled');
      return record;
    }
    if (failure !== undefined) throw failure;
    await save({ status: 'succeeded', finishedAtMs: clock.epochMs(), chunksTotal: lastIndex + 1 });
    progress();
    jobLog?.info({ rowsRead: record.rowsRead, rowsWritten: record.rowsWritten, rowsRejected: record.rowsRejected }, 'batch job succeeded');
    return record;
  } catch (err) {
    const cancelled = options.signal?.aborted === true;
    const message = cancelled ? 'cancelled' : (err as Error).message;
    await save({ status: cancelled ? 'cancelled' : 'failed', finishedAtMs: clock.epochMs(), error: message });
    if (cancelled) jobLog?.warn('batch job cancelled');
    else jobLog?.error({ err }, `batch job failed: ${message}`);
    return record;
  } finally {
    await source?.close().catch(() => undefined);
  }
}

/** The record of a new job, or of the job this run resumes (status running again). */
async function startRecord(job: BatchJob, store: PredictionStore, clock: Clock, options: BatchRunOptions): Promise<BatchJobRecord> {
  const previous = await jobToResume(job, store, options);
  const now = clock.epochMs();
  const record: BatchJobRecord =
    previous === undefined
      ? { id: newJobId(now), name: job.name, status: 'running', spec: job.document, origin: options.origin, createdAtMs: now, startedAtMs: now, rowsRead: 0, rowsWritten: 0, rowsRejected: 0, chunksCommitted: 0 }
      : { ...previous, status: 'running', spec: job.document, startedAtMs: now };
  if (previous !== undefined) {
    // Counts are those of the committed chunks (a chunk scored but not committed when the last run stopped is scored again).
    record.chunksCommitted = (await store.committedChunks(previous.id)).size;
  }
  delete record.finishedAtMs;
  delete record.error;
  await store.saveJob(record);
  return record;
}

/** @throws SibylError OUTPUT_UNKNOWN when the job stores outputs its target does not have (checked before anything is scored). */
export function checkJobOutputs(job: BatchJob, signature: { outputs: readonly { name: string }[] }): void {
  const unknown = (job.outputs ?? []).filter((o) => !signature.outputs.some((t) => t.name === o));
  if (unknown.length === 0) return;
  throw new SibylError('OUTPUT_UNKNOWN', `the job stores output${unknown.length > 1 ? 's' : ''} ${unknown.map((o) => `'${o}'`).join(', ')}, which model '${job.predictionModel}' does not have; its outputs are ${signature.outputs.map((o) => `'${o.name}'`).join(', ')}`);
}

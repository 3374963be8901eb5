// The coordinator of a distributed batch job (`sibyl batch run --distributed`): reads the source,
// puts its chunks on the job's BullMQ queue, and follows their completion through QueueEvents
// while any number of `sibyl worker` processes score and commit them (see chunk-queue.ts for the
// wire contract). It owns the job record: counts, chunks committed, status and error.
//
// - Resume: chunks the prediction store has committed for the job are skipped (the source reads
//   past them); whatever the queue held from an earlier coordinator is dropped first, and every
//   uncommitted chunk is queued again (a chunk committed twice replaces its rows).
// - Memory: at most `maxQueuedChunks` chunks are queued or running at once; reading the source
//   waits for completions.
// - Failure: a chunk that fails on every attempt (its worker threw, or its worker died more than
//   maxStalledCount times) fails the job with that chunk's reason; nothing more is queued.
import { SibylError } from '@sibyl/protocol';
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.ts';
import type { RejectedRow } from '../chunk-processor.ts';
import { countChunk } from '../job-record.ts';
import type { BatchJobRecord, PredictionStore } from '../prediction-store.ts';
import { connectRedis, DEFAULT_REDIS_COMMAND_TIMEOUT_MS, DEFAULT_REDIS_CONNECT_TIMEOUT_MS } from './redis-connection.ts';
import type { BatchSource } from '../source.ts';
import { chunkIndexOf, chunkItemId, chunkQueueName, encodeChunk, registryKey, type ChunkMessage, type ChunkResult, type DistributedJobDescriptor } from './chunk-queue.ts';

export interface DistributedRunProgress {
  rowsRead: number;
  rowsWritten: number;
  rowsRejected: number;
  chunksCommitted: number;
  chunksTotal: number | undefined;
  /** Chunks queued or being scored now. */
  chunksInFlight: number;
  /** Chunks an earlier run committed (skipped), rows scored by this run, and its time so far. */
  chunksSkipped: number;
  rowsThisRun: number;
  elapsedMs: number;
}

export interface DistributedRunOptions {
  /** The job's record as it starts (a new one, or the stored one of a job being resumed). */
  record: BatchJobRecord;
  /** Read with the columns a single-process run keeps as text kept as text (see ChunkMessage). */
  source: BatchSource;
  /** The columns the job reads (what a chunk message carries). */
  columns: readonly string[];
  chunkRows: number;
  /**
   * A chunk ends once its records reach this many bytes. The coordinator alone reads the source,
   * in order, so byte cuts fit: workers get each chunk's rows and its index, whatever its size.
   */
  chunkBytes?: number;
  store: PredictionStore;
  /** What workers need besides the rows: the job spec (with its store). */
  descriptor: Omit<DistributedJobDescriptor, 'jobId' | 'createdAtMs'>;
  redisUrl: string;
  /** Redis must answer a PING this soon after the connection starts, or the job fails saying so (default DEFAULT_REDIS_CONNECT_TIMEOUT_MS). */
  redisConnectTimeoutMs?: number;
  prefix: string;
  /** Chunks queued or running at once (default 8). */
  maxQueuedChunks?: number;
  /** Attempts of a chunk whose processing throws (default 3), with exponential backoff from `backoffMs` (default 1000). */
  attempts?: number;
  backoffMs?: number;
  clock: Clock;
  log: Logger;
  signal?: AbortSignal;
  onProgress?: (progress: DistributedRunProgress) => void;
  /** Rejected rows as their chunks complete (e.g. to append them to the reject file). */
  onRejected?: (rows: readonly RejectedRow[], chunkIndex: number) => void | Promise<void>;
  /** When no worker has started a chunk this long after the job began, a warning says how to start one (default 10000). */
  idleWarningMs?: number;
}

/** Runs the job to its end and returns its final record (also saved in the store). Never throws for a failed chunk: the record says failed. */
export async function runDistributedJob(options: DistributedRunOptions): Promise<BatchJobRecord> {
  const { store, source, log, clock, prefix } = options;
  const jobId = options.record.id;
  const maxQueued = options.maxQueuedChunks ?? 8;
  const attempts = options.attempts ?? 3;
  const queueName = chunkQueueName(jobId);
  const connectTimeoutMs = options.redisConnectTimeoutMs ?? DEFAULT_REDIS_CONNECT_TIMEOUT_MS;
  const connections = await Promise.allSettled([connectRedis(options.redisUrl, { connectTimeoutMs, commandTimeoutMs: DEFAULT_REDIS_COMMAND_TIMEOUT_MS }), connectRedis(options.redisUrl, { connectTimeoutMs })]);
  if (connections.some((c) => c.status === 'rejected')) {
    for (const c of connections) if (c.status === 'fulfilled') c.value.disconnect();
    const reason = (connections.find((c) => c.status === 'rejected') as PromiseRejectedResult).reason as Error;
    const failed: BatchJobRecord = { ...options.record, status: 'failed', error: reason.message, finishedAtMs: clock.epochMs() };
    await store.saveJob(failed).catch((err: unknown) => log.error({ err, jobId }, 'saving the job record failed'));
    return failed;
  }
  const [redis, eventsRedis] = connections.map((c) => (c as PromiseFulfilledResult<Redis>).value) as [Redis, Redis];
  const queue = new Queue<ChunkMessage, ChunkResult>(queueName, { connection: redis, prefix });
  const events = new QueueEvents(queueName, { connection: eventsRedis, prefix });

  let record: BatchJobRecord = { ...options.record, status: 'running', startedAtMs: options.record.startedAtMs ?? clock.epochMs(), error: undefined, finishedAtMs: undefined };
  const pending = new Map<number, { firstRowNumber: number }>();
  const startedMs = clock.now();
  let chunksSkipped = 0;
  let rowsThisRun = 0;
  let failure: SibylError | undefined;
  let wake: (() => void) | undefined;
  const settled = (): Promise<void> => new Promise((resolve) => (wake = resolve));
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  // Saves of the record are chained so they land in order.
  let saving: Promise<void> = Promise.resolve();
  const save = (): Promise<void> => (saving = saving.then(() => store.saveJob(record)));
  const progress = (): void =>
    options.onProgress?.({
      rowsRead: record.rowsRead,
      rowsWritten: record.rowsWritten,
      rowsRejected: record.rowsRejected,
      chunksCommitted: record.chunksCommitted,
      chunksTotal: record.chunksTotal,
      chunksInFlight: pending.size,
      chunksSkipped,
      rowsThisRun,
      elapsedMs: clock.now() - startedMs,
    });
  let rejecting: Promise<void> = Promise.resolve();

  events.on('completed', ({ jobId: itemId, returnvalue }) => {
    const index = chunkIndexOf(itemId);
    if (index === undefined || !pending.has(index)) return;
    pending.delete(index);
    const outcome = (typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue) as ChunkResult;
    rowsThisRun += outcome.rowsRead;
    record = countChunk(record, outcome);
    if (outcome.rejected.length > 0 && options.onRejected !== undefined) {
      const rows = outcome.rejected;
      rejecting = rejecting.then(() => options.onRejected!(rows, index));
    }
    void save().catch((err: unknown) => log.error({ err, jobId }, 'saving the job record failed'));
    progress();
    notify();
  });
  events.on('failed', ({ jobId: itemId, failedReason }) => {
    const index = chunkIndexOf(itemId);
    if (index === undefined || !pending.has(index)) return;
    const first = pending.get(index)!.firstRowNumber;
    failure ??= new SibylError('BATCH_CHUNK_FAILED', `chunk ${index} (source rows from ${first}) of job ${jobId} failed on every attempt: ${failedReason}`);
    notify();
  });
  // Nobody may be working the queue: say so (once) when no chunk has started for a while.
  let started = false;
  events.once('active', () => (started = true));
  const cancelIdleWarning = clock.setTimeout(() => {
    if (!started) log.warn({ jobId, queue: queueName, prefix, redisUrl: options.redisUrl }, `no worker has taken a chunk of job ${jobId} after ${(options.idleWarningMs ?? 10_000) / 1000} s; start workers with: sibyl worker --redis-url ${options.redisUrl} --queue-prefix ${prefix}`);
  }, options.idleWarningMs ?? 10_000);
  const onAbort = (): void => notify();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  try {
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    // A queue left by an earlier coordinator of this job: its chunks are either committed (and
    // skipped below) or queued again, so nothing of it is needed.
    await queue.obliterate({ force: true });
    const descriptor: DistributedJobDescriptor = { ...options.descriptor, jobId, createdAtMs: clock.epochMs() };
    await redis.hset(registryKey(prefix), jobId, JSON.stringify(descriptor));

    const committed = await store.committedChunks(jobId);
    chunksSkipped = committed.size;
    record = { ...record, chunksCommitted: committed.size };
    await save();
    log.info({ jobId, queue: queueName, committed: committed.size, maxQueuedChunks: maxQueued }, 'distributed job: queueing chunks');

    let lastIndex = [...committed].reduce((a, b) => Math.max(a, b), -1);
    const stopped = (): boolean => failure !== undefined || options.signal?.aborted === true;
    for await (const chunk of source.chunks({ chunkRows: options.chunkRows, ...(options.chunkBytes === undefined ? {} : { chunkBytes: options.chunkBytes }), skip: committed, signal: options.signal })) {
      while (pending.size >= maxQueued && !stopped()) await settled();
      if (stopped()) break;
      pending.set(chunk.index, { firstRowNumber: chunk.firstRowNumber });
      lastIndex = Math.max(lastIndex, chunk.index);
      const message = encodeChunk(jobId, chunk, options.columns);
      await queue.add('chunk', message, {
        jobId: chunkItemId(chunk.index),
        attempts,
        backoff: { type: 'exponential', delay: options.backoffMs ?? 1000 },
        removeOnComplete: true,
        removeOnFail: true,
      });
      progress();
    }
    if (!stopped()) {
      record = { ...record, chunksTotal: lastIndex + 1 };
      progress();
    }
    while (pending.size > 0 && !stopped()) await settled();

    if (failure !== undefined) record = { ...record, status: 'failed', error: failure.message };
    else if (options.signal?.aborted === true) record = { ...record, status: 'cancelled', error: 'cancelled' };
    else record = { ...record, status: 'succeeded' };
  } catch (err) {
    record = { ...record, status: 'failed', error: (err as Error).message };
  } finally {
    cancelIdleWarning();
    options.signal?.removeEventListener('abort', onAbort);
    await rejecting.catch((err: unknown) => log.error({ err, jobId }, 'writing rejected rows failed'));
    record = { ...record, finishedAtMs: clock.epochMs() };
    await save().catch((err: unknown) => log.error({ err, jobId }, 'saving the job record failed'));
    // Workers stop taking the job's chunks once it leaves the registry; what is still queued (a
    // failed or cancelled job) is dropped.
    await redis.hdel(registryKey(prefix), jobId).catch(() => undefined);
    await queue.obliterate({ force: true }).catch(() => undefined);
    await events.close();
    await queue.close();
    redis.disconnect();
    eventsRedis.disconnect();
  }
  return record;
}

// The worker side of distributed batch jobs (`sibyl worker`): watches the registry of running
// distributed jobs (chunk-queue.ts) and runs one BullMQ Worker on each job's queue, scoring every
// chunk with the job's ChunkProcessor — the same code a single-process run uses — which commits the
// chunk to the job's prediction store. Any number of pools, on any machine, share the work.
//
// A pool that dies mid-chunk (SIGKILL, a lost machine) stops renewing its lock; after
// lockDurationMs another pool's stalled check (every stalledIntervalMs) puts the chunk back in the
// queue and someone scores it again — its commit replaces whatever the dead one committed.
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ChunkProcessor } from '../chunk-processor.ts';
import { chunkQueueName, decodeChunk, registryKey, type ChunkMessage, type ChunkResult, type DistributedJobDescriptor, type StallOptions } from './chunk-queue.ts';
import { connectRedis, DEFAULT_REDIS_COMMAND_TIMEOUT_MS, DEFAULT_REDIS_CONNECT_TIMEOUT_MS } from './redis-connection.ts';

/** A job's processor on this worker, with what to release when the job is done (its store). */
export interface JobProcessor {
  process: ChunkProcessor;
  close(): Promise<void>;
}

export interface BatchWorkerPoolOptions {
  redisUrl: string;
  prefix: string;
  /** Chunks of one job scored at once by this pool. */
  concurrency: number;
  stall: StallOptions;
  /** How often the registry is read for jobs that started or ended (default 1000 ms). */
  pollIntervalMs?: number;
  /** Builds a job's processor from its descriptor (compile the spec, open the store). Called once per job. */
  processorFor: (descriptor: DistributedJobDescriptor) => Promise<JobProcessor>;
  log: Logger;
}

interface Attached {
  worker: Worker<ChunkMessage, ChunkResult>;
  connection: Redis;
  processor: Promise<JobProcessor>;
}

export class BatchWorkerPool {
  private readonly attached = new Map<string, Attached>();
  private redis!: Redis;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> = Promise.resolve();
  private closed = false;
  /** Chunks this pool has committed, per job (for logs and tests). */
  readonly committed = new Map<string, number>();

  private constructor(private readonly options: BatchWorkerPoolOptions) {}

  /** Connects, reads the registry once and keeps polling it. @throws when Redis cannot be reached or does not answer within its connect timeout. */
  static async start(options: BatchWorkerPoolOptions): Promise<BatchWorkerPool> {
    const pool = new BatchWorkerPool(options);
    pool.redis = await connectRedis(options.redisUrl, { commandTimeoutMs: DEFAULT_REDIS_COMMAND_TIMEOUT_MS });
    await pool.poll();
    pool.timer = setInterval(() => {
      pool.polling = pool.polling.then(() => pool.poll());
    }, options.pollIntervalMs ?? 1000);
    return pool;
  }

  /** Ids of the jobs this pool works on now. */
  get jobs(): string[] {
    return [...this.attached.keys()];
  }

  private async poll(): Promise<void> {
    if (this.closed) return;
    let entries: Record<string, string>;
    try {
      entries = await this.redis.hgetall(registryKey(this.options.prefix));
    } catch (err) {
      this.options.log.warn({ err }, 'reading the registry of distributed jobs failed; retrying');
      return;
    }
    for (const [jobId, text] of Object.entries(entries)) {
      if (this.attached.has(jobId) || this.closed) continue;
      let descriptor: DistributedJobDescriptor;
      try {
        descriptor = JSON.parse(text) as DistributedJobDescriptor;
      } catch {
        this.options.log.error({ jobId }, 'the registry entry of the job is not JSON; ignoring it');
        continue;
      }
      this.attach(descriptor);
    }
    for (const jobId of [...this.attached.keys()]) if (!(jobId in entries)) await this.detach(jobId);
  }

  private attach(descriptor: DistributedJobDescriptor): void {
    const { jobId } = descriptor;
    const { log, stall } = this.options;
    const processor = this.options.processorFor(descriptor);
    // BullMQ's worker blocks on this connection on purpose: no command timeout (its connect has ioredis' connectTimeout).
    const connection = new Redis(this.options.redisUrl, { maxRetriesPerRequest: null, connectTimeout: DEFAULT_REDIS_CONNECT_TIMEOUT_MS });
    // A job whose processor cannot be built (unknown model, unreachable store) fails each chunk
    // with that reason, so the coordinator reports it after the chunk's attempts.
    processor.catch((err: unknown) => log.error({ err, jobId }, 'cannot score the chunks of the job'));
    const worker = new Worker<ChunkMessage, ChunkResult>(
      chunkQueueName(jobId),
      async (job: Job<ChunkMessage, ChunkResult>, _token?: string, signal?: AbortSignal) => {
        const { process } = await processor;
        const index = job.data.index;
        // stalled: how many workers held this chunk before and died (BullMQ's stalled counter).
        const delivery = { jobId, chunk: index, attempt: job.attemptsMade + 1, stalled: job.stalledCounter };
        log.debug(delivery, 'chunk started');
        const outcome = await process(jobId, decodeChunk(job.data), signal);
        this.committed.set(jobId, (this.committed.get(jobId) ?? 0) + 1);
        log.debug({ ...delivery, rows: outcome.rowsWritten, rejected: outcome.rejected.length }, 'chunk committed');
        return outcome;
      },
      {
        connection,
        prefix: this.options.prefix,
        concurrency: this.options.concurrency,
        lockDuration: stall.lockDurationMs,
        stalledInterval: stall.stalledIntervalMs,
        maxStalledCount: stall.maxStalledCount,
      },
    );
    worker.on('error', (err) => log.warn({ err, jobId }, 'worker connection error'));
    worker.on('failed', (job, err) => log.warn({ jobId, chunk: job?.data.index, attempt: job?.attemptsMade, err: err.message }, 'chunk failed'));
    this.attached.set(jobId, { worker, connection, processor });
    log.info({ jobId, queue: chunkQueueName(jobId), concurrency: this.options.concurrency }, 'working on distributed job');
  }

  private async detach(jobId: string): Promise<void> {
    const attached = this.attached.get(jobId);
    if (attached === undefined) return;
    this.attached.delete(jobId);
    await this.closeAttached(attached);
    this.options.log.info({ jobId, chunks: this.committed.get(jobId) ?? 0 }, 'distributed job ended');
  }

  private async closeAttached({ worker, connection, processor }: Attached): Promise<void> {
    await worker.close();
    connection.disconnect();
    await processor.then((p) => p.close()).catch(() => undefined);
  }

  /** Stops taking chunks, lets running ones finish, closes the jobs' stores and the connection. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.polling;
    await Promise.all([...this.attached.values()].map((a) => this.closeAttached(a)));
    this.attached.clear();
    this.redis.disconnect();
  }
}

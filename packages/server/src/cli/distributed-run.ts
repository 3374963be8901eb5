// `sibyl batch run <job.yaml> --distributed`: this process coordinates — it reads the source and
// queues its chunks on Redis — while `sibyl worker` processes score them (see
// batch/distributed/). Same progress, summary and exit codes as a single-process run.
import type { Command } from 'commander';
import { pino } from 'pino';
import { checkJobOutputs } from '../batch/batch-runner.ts';
import { runDistributedBatchJob } from '../batch/distributed/distributed-job.ts';
import { DEFAULT_QUEUE_PREFIX, DEFAULT_REDIS_URL } from '../batch/distributed/chunk-queue.ts';
import { openJobStore } from '../batch/job-store.ts';
import { RowMapper } from '../batch/row-mapping.ts';
import { loadBatchJobFile, type BatchJob } from '../config/batch-job-config.ts';
import type { EndpointConfig } from '../config/endpoint-config.ts';
import { ConfigError } from '../config/validate.ts';
import { createSystemClock, type Clock } from '../core/clock.ts';
import type { Logger } from 'pino';
import { runReported } from './batch-progress.ts';
import { openLocalScoring } from './batch-scoring.ts';

export interface DistributedFlags {
  distributed?: boolean;
  redisUrl?: string;
  queuePrefix?: string;
  maxQueuedChunks?: string;
  attempts?: string;
  resume?: string;
  fresh?: boolean;
  progressIntervalMs: string;
  logLevel: string;
}

/** The options of `batch run` that a distributed run reads. */
export function addDistributedOptions(command: Command): Command {
  return command
    .option('--distributed', "queue the source's chunks on Redis for `sibyl worker` processes to score (the job's store must be one they all reach)")
    .option('--redis-url <url>', `--distributed: the Redis of the queue (default: SIBYL_REDIS_URL, else ${DEFAULT_REDIS_URL})`)
    .option('--queue-prefix <prefix>', `--distributed: prefix of the queue's Redis keys; workers must use the same (default: ${DEFAULT_QUEUE_PREFIX})`)
    .option('--max-queued-chunks <count>', '--distributed: chunks queued or being scored at once (default: 8)')
    .option('--attempts <count>', '--distributed: attempts of a chunk whose scoring fails before the job fails (default: 3)');
}

function count(text: string | undefined, flag: string, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(flag, [{ path: '', message: `${JSON.stringify(text)} is not allowed; expected an integer >= ${min}` }]);
  return n;
}

/**
 * The columns a single-process run of the job keeps as text: the coordinator reads the target's
 * signature (loading its model here; it scores nothing) so the source it reads gives workers the
 * values a single-process run would see. Also checks, before anything is queued, that the target
 * exists and has the outputs the job stores.
 */
async function textColumnsOf(job: BatchJob, scoring: { modelRepository: string; endpoints: ReadonlyMap<string, EndpointConfig>; clock: Clock; log: Logger }): Promise<string[]> {
  const local = await openLocalScoring({ modelRepository: scoring.modelRepository, endpoints: scoring.endpoints, target: job.target, clock: scoring.clock, log: scoring.log });
  try {
    const signature = await local.scorer.signature();
    checkJobOutputs(job, signature);
    return new RowMapper(job.inputs, job.key, signature, job.predictionModel).textColumns();
  } finally {
    await local.close();
  }
}

export async function runDistributedCommand(
  jobFile: string,
  flags: DistributedFlags,
  scoring: { modelRepository: string; endpoints: ReadonlyMap<string, EndpointConfig> },
  io: { stdout: { write(s: string): unknown }; stderr: { isTTY?: boolean; write(s: string): unknown } }): Promise<number> {
  const job = await loadBatchJobFile(jobFile);
  const maxQueuedChunks = count(flags.maxQueuedChunks, '--max-queued-chunks', 1);
  const attempts = count(flags.attempts, '--attempts', 1);
  const intervalMs = Number(flags.progressIntervalMs);
  const redisUrl = flags.redisUrl ?? process.env.SIBYL_REDIS_URL ?? DEFAULT_REDIS_URL;
  const log = pino({ level: flags.logLevel, base: { service: 'sibyl-batch' } }, pino.destination({ fd: 2, sync: true }));
  const clock = createSystemClock();
  const store = await openJobStore(job.store);
  return runReported(io, { intervalMs: Number.isFinite(intervalMs) ? intervalMs : 5000, rejectsPath: job.rejectsPath, cleanup: () => store.close() }, async (signal, onProgress) => {
    const textColumns = await textColumnsOf(job, { ...scoring, clock, log });
    return runDistributedBatchJob(job, { store, clock, log }, {
      textColumns,
      redisUrl,
      prefix: flags.queuePrefix ?? DEFAULT_QUEUE_PREFIX,
      ...(flags.resume === undefined ? {} : { jobId: flags.resume }),
      ...(flags.fresh === true ? { fresh: true } : {}),
      ...(maxQueuedChunks === undefined ? {} : { maxQueuedChunks }),
      ...(attempts === undefined ? {} : { attempts }),
      signal,
      onProgress,
    });
  });
}

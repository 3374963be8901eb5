// `sibyl worker`: scores the chunks of distributed batch jobs (`sibyl batch run --distributed`)
// from Redis — any number of workers, on any machines. Each job's models load here when the job
// starts (ONNX sessions in worker threads, as in the server) and unload when it ends; chunks are
// committed to the job's prediction store, which must be shared (PostgreSQL, or a SQLite file when
// every worker is on one machine). SIGTERM/SIGINT: stop taking chunks, finish the running ones,
// exit 0. Exit codes: 1 Redis cannot be reached, 2 usage or configuration errors.
import { Option, type Command } from 'commander';
import { pino } from 'pino';
import { DEFAULT_QUEUE_PREFIX, DEFAULT_REDIS_URL, DEFAULT_STALL_OPTIONS } from '../batch/distributed/chunk-queue.ts';
import { jobChunkProcessor } from '../batch/distributed/job-processor.ts';
import { BatchWorkerPool } from '../batch/distributed/worker-pool.ts';
import { openJobStore } from '../batch/job-store.ts';
import { SqliteCommitThread } from '../batch/sqlite-commit-thread.ts';
import { compileBatchJob } from '../config/batch-job-config.ts';
import { ConfigError } from '../config/validate.ts';
import { createSystemClock } from '../core/clock.ts';
import { openLocalScoring } from './batch-scoring.ts';
import { resolveScoringConfig } from './scoring-config.ts';

interface WorkerFlags {
  redisUrl?: string;
  queuePrefix: string;
  modelRepository?: string;
  config?: string;
  concurrency: string;
  lockDurationMs: string;
  stalledIntervalMs: string;
  maxStalledCount: string;
  pollIntervalMs: string;
  logLevel: string;
}

function integer(text: string, flag: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(flag, [{ path: '', message: `${JSON.stringify(text)} is not allowed; expected an integer >= ${min}` }]);
  return n;
}

export function registerWorkerCommand(program: Command, exampleRepository: string, setExitCode: (code: number) => void): void {
  program
    .command('worker')
    .description('Score the chunks of distributed batch jobs (sibyl batch run --distributed) queued on Redis.')
    .option('--redis-url <url>', `the Redis of the queues (default: SIBYL_REDIS_URL, else ${DEFAULT_REDIS_URL})`)
    .option('--queue-prefix <prefix>', 'prefix of the queues\u2019 Redis keys, as the coordinator uses it', DEFAULT_QUEUE_PREFIX)
    .option('--model-repository <dir>', "model repository folder (default: the --config file's, else the bundled examples)")
    .addOption(new Option('--config <file>', 'sibyl.yaml whose modelRepository and endpoints to use').env('SIBYL_CONFIG'))
    .option('--concurrency <count>', 'chunks of a job scored at once', '1')
    .option('--lock-duration-ms <ms>', "how long this worker's lock on a chunk lasts unrenewed: a chunk of a dead worker goes to another after about this", String(DEFAULT_STALL_OPTIONS.lockDurationMs))
    .option('--stalled-interval-ms <ms>', 'how often to look for chunks whose worker died', String(DEFAULT_STALL_OPTIONS.stalledIntervalMs))
    .option('--max-stalled-count <count>', 'times a chunk may lose its worker before it fails', String(DEFAULT_STALL_OPTIONS.maxStalledCount))
    .option('--poll-interval-ms <ms>', 'how often to look for jobs that started or ended', '1000')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent', 'info')
    .action(async (flags: WorkerFlags) => {
      setExitCode(await runWorker(flags, exampleRepository));
    });
}

async function runWorker(flags: WorkerFlags, exampleRepository: string): Promise<number> {
  const stall = {
    lockDurationMs: integer(flags.lockDurationMs, '--lock-duration-ms', 100),
    stalledIntervalMs: integer(flags.stalledIntervalMs, '--stalled-interval-ms', 100),
    maxStalledCount: integer(flags.maxStalledCount, '--max-stalled-count', 0),
  };
  const concurrency = integer(flags.concurrency, '--concurrency', 1);
  const pollIntervalMs = integer(flags.pollIntervalMs, '--poll-interval-ms', 10);
  const { modelRepository, endpoints } = await resolveScoringConfig(flags, exampleRepository);
  const redisUrl = flags.redisUrl ?? process.env.SIBYL_REDIS_URL ?? DEFAULT_REDIS_URL;
  const log = pino({ level: flags.logLevel, base: { service: 'sibyl-worker', pid: process.pid } });
  const clock = createSystemClock();

  let pool: BatchWorkerPool;
  try {
    pool = await BatchWorkerPool.start({
      redisUrl,
      prefix: flags.queuePrefix,
      concurrency,
      stall,
      pollIntervalMs,
      log,
      processorFor: async (descriptor) => {
        const job = compileBatchJob(descriptor.spec, `distributed job ${descriptor.jobId}`, process.cwd());
        const store = await openJobStore(job.store);
        // SQLite: chunks are committed from a worker thread, as `sibyl batch run` does.
        const thread = job.store.kind === 'sqlite' ? await SqliteCommitThread.start(job.store.path) : undefined;
        const release = async (): Promise<void> => {
          await thread?.close();
          await store.close();
        };
        try {
          const scoring = await openLocalScoring({ modelRepository, endpoints, target: job.target, clock, log });
          const process = await jobChunkProcessor(job, { store, scorer: scoring.scorer, clock, ...(thread === undefined ? {} : { commit: (i, p) => thread.commit(i, p) }) }).catch(async (err: unknown) => {
            await scoring.close();
            throw err;
          });
          return {
            process,
            async close() {
              await scoring.close();
              await release();
            },
          };
        } catch (err) {
          await release();
          throw err;
        }
      },
    });
  } catch (err) {
    log.fatal({ err, redisUrl }, `cannot start: ${(err as Error).message}`);
    return 1;
  }
  log.info({ redisUrl, queuePrefix: flags.queuePrefix, modelRepository, concurrency, ...stall }, `sibyl worker ready: waiting for distributed batch jobs on ${redisUrl}`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log.info(`${signal} received: finishing the running chunks`);
      void pool.close().then(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  log.info('worker stopped');
  return 0;
}

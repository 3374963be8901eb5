// `sibyl batch run <job.yaml>`: runs a batch job in this process (the models it needs load here,
// ONNX sessions in worker threads as in the server) and writes the job's prediction store.
// Resumes the newest unfinished run of the same job by default (--resume <id> names one,
// --fresh starts anew). Exit codes: 0 succeeded, 1 failed or cancelled (SIGINT/SIGTERM), 2 usage
// or configuration errors. Other `batch` subcommands (start, jobs, …) live in their own files.
import { Option, type Command } from 'commander';
import { pino } from 'pino';
import { loadBatchJobFile } from '../config/batch-job-config.ts';
import { ConfigError } from '../config/validate.ts';
import { createSystemClock } from '../core/clock.ts';
import { runBatchJob } from '../batch/batch-runner.ts';
import { openJobStore } from '../batch/job-store.ts';
import { SqliteCommitThread } from '../batch/sqlite-commit-thread.ts';
import { openLocalScoring } from './batch-scoring.ts';
import { runReported } from './batch-progress.ts';
import { addDistributedOptions, runDistributedCommand, type DistributedFlags } from './distributed-run.ts';
import { resolveScoringConfig } from './scoring-config.ts';

export interface BatchRunIo {
  stdout: { isTTY?: boolean; write(s: string): unknown };
  stderr: { isTTY?: boolean; write(s: string): unknown };
}

/** The `batch` group, found if another file registered it already, else created. */
function batchGroup(program: Command): Command {
  return program.commands.find((c) => c.name() === 'batch') ?? program.command('batch').description('Batch prediction jobs: run one here, or start and follow them in a running server.');
}

export function registerBatchRunCommand(program: Command, exampleRepository: string, setExitCode: (code: number) => void, io: BatchRunIo = process): void {
  const run = batchGroup(program)
    .command('run')
    .description('Run a batch job (job.yaml) in this process: score its source and write the predictions to its prediction store.')
    .argument('<job>', 'the job file (job.yaml)')
    .option('--model-repository <dir>', 'model repository folder (default: the --config file\'s, else the bundled examples)')
    .addOption(new Option('--config <file>', 'sibyl.yaml whose modelRepository and endpoints to use').env('SIBYL_CONFIG'))
    .option('--resume <jobId>', 'resume this job: skip the chunks it committed')
    .option('--fresh', 'start a new job even if an unfinished run of the same job exists (default: resume it)')
    .option('--progress-interval-ms <ms>', 'time between progress lines when the output is not a terminal', '5000')
    .option('--log-level <level>', 'log level of the model server parts (to stderr)', 'warn');
  addDistributedOptions(run).action(async (jobFile: string, flags: { modelRepository?: string; config?: string; resume?: string; fresh?: boolean; progressIntervalMs: string; logLevel: string } & DistributedFlags) => {
    setExitCode(flags.distributed === true ? await runDistributedCommand(jobFile, flags, await resolveScoringConfig(flags, exampleRepository), io) : await runCommand(jobFile, flags, exampleRepository, io));
  });
}

async function runCommand(
  jobFile: string,
  flags: { modelRepository?: string; config?: string; resume?: string; fresh?: boolean; progressIntervalMs: string; logLevel: string },
  exampleRepository: string,
  io: BatchRunIo,
): Promise<number> {
  const job = await loadBatchJobFile(jobFile);
  const { modelRepository, endpoints } = await resolveScoringConfig(flags, exampleRepository);
  const intervalMs = Number(flags.progressIntervalMs);
  if (!Number.isFinite(intervalMs) || intervalMs < 0) throw new ConfigError('--progress-interval-ms', [{ path: '', message: `${flags.progressIntervalMs} is not allowed; expected a number of ms >= 0` }]);

  const log = pino({ level: flags.logLevel, base: { service: 'sibyl-batch' } }, pino.destination({ fd: 2, sync: true }));
  const clock = createSystemClock();
  const store = await openJobStore(job.store);
  // SQLite: chunks are committed from a worker thread (overlapping the next chunks' work).
  const commitThread = job.store.kind === 'sqlite' ? await SqliteCommitThread.start(job.store.path) : undefined;
  let scoring: Awaited<ReturnType<typeof openLocalScoring>> | undefined;
  const cleanup = async (): Promise<void> => {
    await scoring?.close();
    await commitThread?.close();
    await store.close();
  };
  return runReported(io, { intervalMs, rejectsPath: job.rejectsPath, cleanup }, async (signal, onProgress) => {
    scoring = await openLocalScoring({ modelRepository, endpoints, target: job.target, clock, log });
    return runBatchJob(
      job,
      { store, scorer: scoring.scorer, clock, log, ...(commitThread === undefined ? {} : { commit: (i, p) => commitThread.commit(i, p) }) },
      {
        origin: 'cli',
        signal,
        ...(flags.resume === undefined ? {} : { jobId: flags.resume }),
        ...(flags.fresh === true ? { fresh: true } : {}),
        onProgress,
      },
    );
  });
}

// `sibyl batch start|jobs|show|cancel|resume|schedules`: batch jobs run inside a running server,
// through its API (/v1/batch/...). `sibyl batch run` (cli/batch-command.ts) runs a job in this
// process instead. Exit codes: 0 done, 1 the server refused or could not be reached (or, with
// --wait, the job did not succeed), 2 usage errors.
import path from 'node:path';
import type { Command } from 'commander';
import type { SibylManagement } from '@sibyl/client';
import type { BatchJobJson, BatchScheduleJson } from '@sibyl/protocol';
import { CliError, managementAction, withUrl, type CliIo } from './management-action.ts';
import { formatTable } from './table.ts';

const iso = (ms: number | null | undefined): string => (ms === null || ms === undefined ? '' : new Date(ms).toISOString().replace('.000Z', 'Z'));
const seconds = (ms: number): string => (ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : ms < 3_600_000 ? `${Math.round(ms / 1000)}s` : `${(ms / 3_600_000).toFixed(1)}h`);

/** The `batch` command group, shared with `sibyl batch run`: found if registered already, else created. */
export function batchGroup(program: Command): Command {
  return program.commands.find((c) => c.name() === 'batch') ?? program.command('batch').description('Batch prediction jobs: run one here, or start and follow them in a running server.');
}

function duration(job: BatchJobJson): string {
  if (job.startedAtMs === undefined) return '';
  if (job.finishedAtMs !== undefined) return seconds(job.finishedAtMs - job.startedAtMs);
  return job.progress === undefined ? '' : seconds(job.progress.elapsedMs);
}

/** One line of a running job's progress: rows, rate, ETA. */
export function progressLine(job: BatchJobJson): string {
  const p = job.progress;
  if (p === undefined) return '';
  const total = p.rowsTotal === null ? '' : `/${p.rowsTotal}`;
  const pct = p.fraction === null ? '' : ` (${(p.fraction * 100).toFixed(1)}%)`;
  const eta = p.etaSeconds === null ? '' : `, ETA ${seconds(p.etaSeconds * 1000)}`;
  return `${p.rowsRead}${total} rows${pct}, ${p.rowsWritten} written, ${p.rowsRejected} rejected, ${Math.round(p.rowsPerSecond)} rows/s${eta}`;
}

/** A job as text: its fields, then its progress or its error. */
export function jobText(job: BatchJobJson): string {
  const lines = [
    `${job.id}: ${job.name} ${job.status.toUpperCase()} (${job.origin})`,
    `  created   ${iso(job.createdAtMs)}`,
    ...(job.startedAtMs === undefined ? [] : [`  started   ${iso(job.startedAtMs)}`]),
    ...(job.finishedAtMs === undefined ? [] : [`  finished  ${iso(job.finishedAtMs)} (${duration(job)})`]),
    `  rows      ${job.rowsRead} read, ${job.rowsWritten} written, ${job.rowsRejected} rejected`,
    `  chunks    ${job.chunksCommitted}${job.chunksTotal === undefined ? '' : ` of ${job.chunksTotal}`} committed`,
  ];
  if (job.queuePosition !== undefined) lines.push(`  queued    ${job.queuePosition === 1 ? 'next to start' : `number ${job.queuePosition} in the queue`} (batch.maxRunningJobs jobs are running)`);
  if (job.progress !== undefined) lines.push(`  progress  ${progressLine(job)}`);
  if (job.error !== undefined) lines.push(`  error     ${job.error}`);
  return lines.join('\n');
}

function jobsTable(jobs: readonly BatchJobJson[]): string {
  return formatTable(
    ['ID', 'NAME', 'STATUS', 'ORIGIN', 'ROWS', 'REJECTED', 'CREATED', 'DURATION'],
    jobs.map((j) => [j.id, j.name, j.status, j.origin, String(j.progress?.rowsWritten ?? j.rowsWritten), String(j.progress?.rowsRejected ?? j.rowsRejected), iso(j.createdAtMs), duration(j)]),
  );
}

function schedulesTable(schedules: readonly BatchScheduleJson[]): string {
  return formatTable(
    ['SCHEDULE', 'CRON', 'TIMEZONE', 'JOB', 'NEXT RUN', 'LAST RUN', 'LAST STATUS', 'SKIPPED'],
    schedules.map((s) => [
      s.name + (s.enabled ? '' : ' (disabled)'),
      s.cron,
      s.timezone,
      s.job,
      iso(s.nextRunAtMs),
      s.lastRun === null ? '' : `${s.lastRun.jobId} ${iso(s.lastRun.startedAtMs)}`,
      s.runningJobId !== null ? 'running' : (s.lastError === null ? (s.lastRun?.status ?? '') : `could not start: ${s.lastError}`),
      String(s.skippedRuns),
    ]),
  );
}

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

/** Polls the job until it ends, writing its progress to stderr; the final record. */
async function waitFor(server: SibylManagement, id: string, io: CliIo, intervalMs: number): Promise<BatchJobJson> {
  for (;;) {
    const job = await server.jobs.get(id);
    if (FINISHED.has(job.status)) return job;
    if (job.progress !== undefined) io.stderr.write(`${id}: ${progressLine(job)}\n`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export function registerBatchOpsCommands(program: Command, setExitCode: (code: number) => void, io: CliIo = process): Command {
  const batch = batchGroup(program);
  batch.addHelpText(
    'after',
    `
start, jobs, show, cancel, resume and schedules talk to a running 'sibyl serve' at --url
(default: SIBYL_URL, else http://127.0.0.1:8000); the server runs the job.

Examples:
  sibyl batch start jobs/nightly.yaml --wait      # a job file on this machine (the server reads it)
  sibyl batch start --job-file jobs/nightly.yaml  # a job file relative to the server's sibyl.yaml
  sibyl batch jobs                                # history, newest first
  sibyl batch show 20260104T020000-1a2b3c         # status, counts, rows/s and ETA
  sibyl batch cancel 20260104T020000-1a2b3c
  sibyl batch schedules                           # next and last runs of sibyl.yaml's schedules`,
  );
  const run = (fn: (server: SibylManagement, command: Command) => Promise<string>) => managementAction(io, setExitCode, fn);

  withUrl(batch.command('start').argument('[job.yaml]', 'a job file on this machine; the server reads it from its absolute path, which must be in its jobs/ folder or sandbox.sourceRoots').description('Start a batch job in the server.'))
    .option('--job-file <path>', "a job file on the server, relative to the folder of the server's sibyl.yaml (in its jobs/ folder or sandbox.sourceRoots)")
    .option('--wait', 'follow the job until it ends (progress on stderr); exit 1 unless it succeeds')
    .option('--poll-interval-ms <ms>', 'with --wait, time between status calls', '1000')
    .action(
      run(async (server, command) => {
        const opts = command.opts<{ jobFile?: string; wait?: boolean; pollIntervalMs: string }>();
        const local = command.args[0];
        if ((local === undefined) === (opts.jobFile === undefined)) throw new CliError('give either a job file (sibyl batch start job.yaml) or --job-file <path on the server>, not both or neither');
        const jobFile = local === undefined ? opts.jobFile! : path.resolve(local);
        const started = await server.jobs.start({ jobFile });
        if (opts.wait !== true) return `${started.id}: ${started.name} started; follow it with: sibyl batch show ${started.id}`;
        const final = await waitFor(server, started.id, io, Number(opts.pollIntervalMs));
        const text = jobText(final);
        if (final.status !== 'succeeded') throw new CliError(`batch job ${final.id} ${final.status}\n${text}`);
        return text;
      }),
    );

  withUrl(batch.command('jobs').description('Job history, newest first (from the prediction store: jobs run anywhere that share it).'))
    .option('--limit <count>', 'most jobs listed', '20')
    .option('--name <name>', "only the jobs of this name (a job spec's name)")
    .option('--json', "print the server's JSON")
    .action(
      run(async (server, command) => {
        const opts = command.opts<{ limit: string; name?: string; json?: boolean }>();
        const jobs = await server.jobs.list({ limit: opts.limit, name: opts.name });
        if (opts.json === true) return JSON.stringify(jobs, null, 2);
        return jobs.length === 0 ? 'no batch jobs yet' : jobsTable(jobs);
      }),
    );

  withUrl(batch.command('show').argument('<id>').description('A job: status, counts, and while it runs rows/s and ETA.'))
    .option('--json', "print the server's JSON")
    .action(
      run(async (server, command) => {
        const job = await server.jobs.get(command.args[0]!);
        return command.opts<{ json?: boolean }>().json === true ? JSON.stringify(job, null, 2) : jobText(job);
      }),
    );

  withUrl(batch.command('cancel').argument('<id>').description('Cancel a job running in the server; its committed chunks stay (resume skips them).')).action(
    run(async (server, command) => {
      const job = await server.jobs.cancel(command.args[0]!);
      return `${job.id}: ${job.status} after ${job.rowsWritten} rows written`;
    }),
  );

  withUrl(batch.command('resume').argument('<id>').description('Run a failed, cancelled or interrupted job again under its id, skipping the chunks it committed.')).action(
    run(async (server, command) => {
      const job = await server.jobs.resume(command.args[0]!);
      return `${job.id}: ${job.name} resumed (${job.chunksCommitted} chunks committed before)`;
    }),
  );

  withUrl(batch.command('schedules').description("The server's schedules (sibyl.yaml schedules:) with their next and last runs."))
    .option('--json', "print the server's JSON")
    .action(
      run(async (server, command) => {
        const schedules = await server.jobs.schedules();
        if (command.opts<{ json?: boolean }>().json === true) return JSON.stringify(schedules, null, 2);
        return schedules.length === 0 ? 'no schedules (add them under schedules: in sibyl.yaml)' : schedulesTable(schedules);
      }),
    );
  return batch;
}

// The job runner of jobs inside the server: compiles a spec (relative paths against the folder of
// sibyl.yaml) or a job file, and runs it with the single-process runner, scoring through the
// server's router and writing the server's prediction store (where lookups and hybrid endpoints
// read). Online traffic comes first: a job keeps at most as many requests in flight as its target
// has instances (the job's own `concurrency` when lower), so it never fills a model's queue.
import { SibylError } from '@sibyl/protocol';
import path from 'node:path';
import type { Logger } from 'pino';
import { compileBatchJob, type BatchJob, type NamedConnection } from '../config/batch-job-config.ts';
import { ConfigError } from '../config/validate.ts';
import { readYamlFile } from '../config/yaml-file.ts';
import type { Clock } from '../core/clock.ts';
import { Semaphore } from '../core/semaphore.ts';
import type { ModelManager } from '../models/model-manager.ts';
import type { Router } from '../routing/router.ts';
import { runBatchJob } from './batch-runner.ts';
import { routerScorer, type BatchScorer } from './batch-scorer.ts';
import type { BatchJobRunner, PreparedJob } from './job-manager.ts';
import type { PredictionStore } from './prediction-store.ts';
import { SqliteCommitThread } from './sqlite-commit-thread.ts';
import { allowedJobFile, sandboxedJob, type JobSandbox } from './job-sandbox.ts';
import { redactJobSpec } from './redact-url.ts';
import { refuseSpecialFile } from './sources/source-limits.ts';

export interface ServerJobRunnerOptions {
  /** When online requests last arrived: jobs are paced while they do (OnlineFirstGate). */
  activity?: OnlineActivity;
  router: Router;
  models: ModelManager;
  store: PredictionStore;
  clock: Clock;
  log: Logger;
  /** Folder of sibyl.yaml: relative job files and paths in specs resolve against it. */
  configDir: string;
  /** The file of the server's prediction store when it is SQLite: jobs commit their chunks to it from a worker thread, off the event loop. */
  sqliteFile?: string;
  /**
   * The server's prediction store as a job's `store` names it (a PostgreSQL URL without its
   * password): jobs here always write the server's store, whatever their spec names, so their
   * records show this one.
   */
  serverStore?: { sqlite: string } | { postgres: string };
  /** Where a spec sent to the server without `rejects` writes its reject file (`<name>.rejects.jsonl`). Default: `configDir`. */
  rejectsDir?: string;
  /** Databases a spec may name by `source.sql.connection` (sibyl.yaml's sandbox.connections). */
  connections?: Readonly<Record<string, NamedConnection>>;
  /** What a sandboxed job (one sent over the network) may read and write. Absent: sandboxed jobs read no files and write rejects only under `rejectsDir`. */
  sandbox?: JobSandbox;
}

interface ServerPreparedJob extends PreparedJob {
  job: BatchJob;
}

/** A scorer with at most `limit()` requests in flight (the limit is read once, at the first request). */
export function boundedScorer(scorer: BatchScorer, limit: (signature: Awaited<ReturnType<BatchScorer['signature']>>) => number): BatchScorer {
  // One semaphore for every request, made once (requests arriving together share it).
  let semaphore: Promise<Semaphore> | undefined;
  return {
    signature: () => scorer.signature(),
    async infer(request, signal) {
      semaphore ??= scorer.signature().then((s) => new Semaphore(limit(s)));
      return (await semaphore).run(() => scorer.infer(request, signal));
    },
  };
}

/** When the server last received an online request (performance.now() ms); the HTTP frontend touches it. */
export class OnlineActivity {
  lastMs = Number.NEGATIVE_INFINITY;

  touch(nowMs: number): void {
    this.lastMs = nowMs;
  }
}

/**
 * Online requests first. A job's work on the event loop (mapping rows, splitting outputs,
 * committing chunks) would otherwise keep it busy and online requests would wait in their
 * sockets — bounding the job's requests in flight bounds the model's queue, not that. So while
 * online requests arrive (one in the last `recentMs`), the jobs are paced to `share` of the time:
 * before each batch request they wait (1 - share) / share times as long as their work since the
 * previous one took (at most `maxWaitMs`). With no online traffic they run at full speed.
 */
export class OnlineFirstGate {
  private previousPassMs = Number.NEGATIVE_INFINITY;
  private previousWaitMs = 0;

  constructor(
    private readonly activity: OnlineActivity,
    private readonly clock: Clock,
    private readonly options: { share: number; recentMs: number; maxWaitMs: number } = { share: 0.25, recentMs: 1000, maxWaitMs: 500 },
  ) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const now = this.clock.now();
    const { share, recentMs, maxWaitMs } = this.options;
    let wait = 0;
    if (now - this.activity.lastMs < recentMs && Number.isFinite(this.previousPassMs)) {
      const work = Math.max(0, now - this.previousPassMs - this.previousWaitMs);
      wait = Math.min(maxWaitMs, (work * (1 - share)) / share);
      if (wait > 0) await new Promise<void>((resolve) => this.clock.setTimeout(resolve, wait));
    }
    this.previousPassMs = now;
    this.previousWaitMs = wait;
    return fn();
  }
}

/** A scorer whose requests pass the gate. */
export function gatedScorer(scorer: BatchScorer, gate: OnlineFirstGate): BatchScorer {
  return { signature: () => scorer.signature(), infer: (request, signal) => gate.run(() => scorer.infer(request, signal)) };
}

/** A ConfigError (the spec or file is wrong) as the API's 400, naming the field. */
function asRequestError(err: unknown): unknown {
  if (err instanceof ConfigError) return new SibylError('BATCH_JOB_INVALID', err.message);
  return err;
}

/**
 * The error of a job file sent over the API that does not parse or compile, without a word of the
 * file's contents (its messages quote values and YAML snippets): the file, the fields and the
 * positions only.
 */
export function opaqueJobFileError(file: string, err: ConfigError): ConfigError | SibylError {
  if (err.problems.length === 1 && err.problems[0]!.message === 'file not found') return err;
  const where = err.problems.map((p) => p.path !== '' ? p.path : (/^line \d+, column \d+/.exec(p.message)?.[0] ?? 'the document'));
  return new SibylError('BATCH_JOB_INVALID', `the job file ${file} is not a valid job spec (at ${[...new Set(where)].join('; ')}); run it locally (sibyl batch run <file>) to see each problem`);
}

export function serverJobRunner(options: ServerJobRunnerOptions): BatchJobRunner {
  const { router, models, store, clock, log, configDir } = options;
  // One gate for every job of the server: together they get the share.
  const gate = options.activity === undefined ? undefined : new OnlineFirstGate(options.activity, clock);
  return {
    async prepare(input, { sandboxed = false } = {}): Promise<ServerPreparedJob> {
      let job: BatchJob;
      let namesStore: boolean;
      const connections = options.connections ?? {};
      const rejectsDir = options.rejectsDir ?? configDir;
      const sandbox: JobSandbox = options.sandbox ?? { sourceRoots: [], jobFileRoots: [], dataDir: rejectsDir, privateFiles: [] };
      try {
        if ('jobFile' in input) {
          let file = path.resolve(configDir, input.jobFile);
          if (sandboxed) file = allowedJobFile(sandbox, file);
          let document: unknown;
          try {
            document = await readYamlFile(file);
          } catch (err) {
            if (err instanceof ConfigError) throw sandboxed ? opaqueJobFileError(file, err) : err;
            throw new SibylError('BATCH_JOB_INVALID', `cannot read the job file ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
          }
          try {
            job = compileBatchJob(document, file, path.dirname(file), sandboxed ? rejectsDir : path.dirname(file), connections);
          } catch (err) {
            throw sandboxed && err instanceof ConfigError ? opaqueJobFileError(file, err) : err;
          }
          namesStore = (document as { store?: unknown } | null)?.store !== undefined;
        } else {
          job = compileBatchJob(input.spec, 'the job spec', configDir, rejectsDir, connections);
          namesStore = (input.spec as { store?: unknown }).store !== undefined;
        }
      } catch (err) {
        throw asRequestError(err);
      }
      if (sandboxed) job = sandboxedJob(sandbox, job);
      if (options.serverStore !== undefined) {
        // The record tells the truth: the store this job writes is the server's.
        const named = job.document.store;
        if (namesStore && JSON.stringify(named) !== JSON.stringify(options.serverStore)) {
          log.info({ job: job.name, named: redactJobSpec({ store: named }).store, writes: options.serverStore }, `job ${job.name} names a prediction store of its own; in the server it writes the server's store`);
        }
        job = { ...job, document: { ...job.document, store: options.serverStore } };
      }
      // A device, FIFO or directory as the source is the caller's mistake: a 400 now, not a failed job later.
      const source = job.source;
      if (source.kind !== 'postgres') refuseSpecialFile(source.path, `the ${source.kind === 'jsonl' ? 'JSON Lines' : source.kind === 'csv' ? 'CSV' : source.kind === 'parquet' ? 'Parquet' : 'SQLite'} source`);
      const target = job.target.kind === 'model' ? job.target.model : job.target.endpoint;
      if (!models.has(target) && router.endpoints.get(target) === undefined) {
        throw new SibylError(job.target.kind === 'model' ? 'MODEL_NOT_FOUND' : 'ENDPOINT_NOT_FOUND', `job ${job.name} targets ${job.target.kind} '${target}', which this server does not have; list them with POST /v2/repository/index (models) or GET /v1/endpoints`);
      }
      return { name: job.name, spec: job.document, job };
    },
    async run(prepared, { jobId, origin, signal, onProgress }) {
      const { job } = prepared as ServerPreparedJob;
      const bounded = boundedScorer(routerScorer(router, models, clock, job.target), (s) => Math.min(job.concurrency ?? Number.POSITIVE_INFINITY, Math.max(1, s.instanceCount)));
      const scorer = gate === undefined ? bounded : gatedScorer(bounded, gate);
      const thread = options.sqliteFile === undefined ? undefined : await SqliteCommitThread.start(options.sqliteFile);
      try {
        return await runBatchJob(job, { store, scorer, clock, log, ...(thread === undefined ? {} : { commit: (i, p) => thread.commit(i, p) }) }, { jobId, origin, signal, onProgress });
      } finally {
        await thread?.close();
      }
    },
  };
}

// Batch jobs inside the server: started through the API or by a schedule, run in the background
// by the single-process runner, followed (progress with rows/s and ETA) and cancelled. The
// history is the prediction store's job records, so jobs run by `sibyl batch run` or by other
// servers sharing the store are listed too.
//
// Restarts: the ids of the jobs this server is running are kept in its state store (namespace
// `batch-jobs`); a job still there when the server starts again was interrupted (a crash, a kill)
// and its record is marked failed with an error saying so. It is not resumed by itself — a job
// that ran at 02:00 may be unwanted at 09:00 — but `POST /v1/batch/jobs/{id}/resume` (`sibyl
// batch resume <id>`) runs it again under the same id, skipping the chunks it committed.
// A graceful shutdown cancels running jobs and records them the same way.
//
// Bounds: cancel and close() wait at most `stopTimeoutMs` for a job to stop after its signal
// aborts. A job that does not (a source or store that never answers and ignores the abort) is
// abandoned: its record is saved as failed with the reason (the save itself waits at most
// `stopTimeoutMs` too), it leaves the running set, and whatever it still does is not awaited.
import { SibylError } from '@sibyl/protocol';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import { STATE_NAMESPACES } from '../state/snapshot-schema.ts';
import type { StateStore } from '../state/state-store.ts';
import { newJobId } from './job-record.ts';
import type { BatchJobRecord, PredictionStore } from './prediction-store.ts';

/** What the runner reports while a job runs. */
export interface BatchJobProgress {
  rowsRead: number;
  rowsWritten: number;
  rowsRejected: number;
  chunksCommitted: number;
  chunksTotal?: number;
  /** Rows in the source, when the source can tell in advance. */
  rowsTotal?: number;
  /** Rows read by this run (a resumed job read the others before): the rate counts these. */
  rowsThisRun?: number;
}

/** A job compiled and ready to run. */
export interface PreparedJob {
  name: string;
  /** The spec as the record keeps it. */
  spec: unknown;
}

/** How jobs are compiled and run: the single-process runner, scoring through the server's router. */
export interface BatchJobRunner {
  /** @throws SibylError (or ConfigError) saying what is wrong with the spec or file. */
  prepare(input: { spec: unknown } | { jobFile: string }): Promise<PreparedJob>;
  /** Runs to the end (or the signal) and returns the final record, which the runner has saved. */
  run(job: PreparedJob, options: { jobId: string; origin: string; signal: AbortSignal; onProgress: (progress: BatchJobProgress) => void }): Promise<BatchJobRecord>;
}

/** A job as the API shows it: its record, and while it runs here, its live progress. */
export interface BatchJobView extends BatchJobRecord {
  progress?: {
    rowsRead: number;
    rowsWritten: number;
    rowsRejected: number;
    chunksCommitted: number;
    chunksTotal: number | null;
    rowsTotal: number | null;
    elapsedMs: number;
    rowsPerSecond: number;
    /** Seconds to go at the current rate, when the total is known. */
    etaSeconds: number | null;
    /** 0..1, when the total is known. */
    fraction: number | null;
  };
}

interface Running {
  record: BatchJobRecord;
  controller: AbortController;
  startedAt: number;
  progress: BatchJobProgress;
  done: Promise<BatchJobRecord>;
  /** Set when cancel or close gave up waiting: its end, if it ever comes, changes nothing here. */
  abandoned: boolean;
}

const RUNNING_NAMESPACE = STATE_NAMESPACES.batchJobs;

export interface BatchJobManagerOptions {
  store: PredictionStore;
  runner: BatchJobRunner;
  /** Where the ids of running jobs are kept across restarts. */
  state: StateStore;
  clock: Clock;
  log: Logger;
  /** How long cancel and close() wait for a job to stop before abandoning it. Default DEFAULT_STOP_TIMEOUT_MS. */
  stopTimeoutMs?: number;
}

/** Default of BatchJobManagerOptions.stopTimeoutMs. */
export const DEFAULT_STOP_TIMEOUT_MS = 10_000;

export class BatchJobManager {
  private readonly running = new Map<string, Running>();
  private closing = false;

  constructor(private readonly options: BatchJobManagerOptions) {}

  /** Marks the jobs this server was running when it stopped as failed (interrupted). Call once at start-up. @returns their ids. */
  async recoverInterrupted(): Promise<string[]> {
    const { state, store, clock, log } = this.options;
    const ids = [...(await state.list<{ startedAtMs: number }>(RUNNING_NAMESPACE)).keys()];
    for (const id of ids) {
      const record = await store.getJob(id);
      if (record !== undefined && (record.status === 'running' || record.status === 'queued')) {
        // The record's counts are from its last save; the committed chunks are exact.
        const chunksCommitted = (await store.committedChunks(id)).size;
        await store.saveJob({ ...record, status: 'failed', chunksCommitted, finishedAtMs: clock.epochMs(), error: interruptedError(id, 'the server stopped while the job ran') });
        log.warn({ jobId: id }, 'batch job was interrupted by a restart; marked failed');
      }
      await state.delete(RUNNING_NAMESPACE, id);
    }
    return ids;
  }

  /**
   * Compiles the job and starts it in the background. Resolves once it is recorded (status
   * queued) with its record and the promise of its end.
   * @throws SibylError when the spec or file is wrong (nothing is recorded then).
   */
  async start(input: { spec: unknown } | { jobFile: string }, origin: string, jobId?: string): Promise<{ record: BatchJobRecord; done: Promise<BatchJobRecord> }> {
    if (this.closing) throw new SibylError('SERVER_DRAINING', 'the server is shutting down and starts no batch jobs');
    const job = await this.options.runner.prepare(input);
    return this.launch(job, origin, jobId);
  }

  /** Runs a job recorded earlier again under its id (it skips the chunks it committed). */
  async resume(id: string, origin: string): Promise<{ record: BatchJobRecord; done: Promise<BatchJobRecord> }> {
    if (this.running.has(id)) throw new SibylError('BATCH_JOB_RUNNING', `batch job ${id} is running already; cancel it first or wait for it to end`);
    const record = await this.options.store.getJob(id);
    if (record === undefined) throw notFound(id);
    const job = await this.options.runner.prepare({ spec: record.spec });
    return this.launch(job, origin, id, record);
  }

  private async launch(job: PreparedJob, origin: string, jobId: string | undefined, previous?: BatchJobRecord): Promise<{ record: BatchJobRecord; done: Promise<BatchJobRecord> }> {
    const { store, state, clock, log, runner } = this.options;
    const id = jobId ?? newJobId(clock.epochMs());
    const record: BatchJobRecord = {
      rowsRead: 0,
      rowsWritten: 0,
      rowsRejected: 0,
      chunksCommitted: 0,
      ...previous,
      id,
      name: job.name,
      status: 'queued',
      spec: job.spec,
      origin,
      createdAtMs: previous?.createdAtMs ?? clock.epochMs(),
      finishedAtMs: undefined,
      error: undefined,
    };
    await store.saveJob(record);
    await state.put(RUNNING_NAMESPACE, id, { startedAtMs: clock.epochMs() });
    const controller = new AbortController();
    const entry: Running = { record, controller, startedAt: clock.now(), progress: { rowsRead: 0, rowsWritten: 0, rowsRejected: 0, chunksCommitted: 0 }, done: undefined as never, abandoned: false };
    entry.done = (async () => {
      let final: BatchJobRecord;
      try {
        final = await runner.run(job, { jobId: id, origin, signal: controller.signal, onProgress: (p) => (entry.progress = p) });
        if (entry.abandoned) {
          log.warn({ jobId: id, status: final.status }, `batch job ${id} ended after it was abandoned`);
          return final;
        }
      } catch (err) {
        if (entry.abandoned) return { ...record, status: 'failed', error: (err as Error).message };
        const current = (await store.getJob(id).catch(() => undefined)) ?? record;
        final = { ...current, status: 'failed', finishedAtMs: clock.epochMs(), error: (err as Error).message };
        await store.saveJob(final).catch((e: unknown) => log.error({ err: e, jobId: id }, 'saving the failed job record failed'));
      }
      if (this.closing && final.status === 'cancelled') {
        final = { ...final, status: 'failed', error: interruptedError(id, 'the server shut down while the job ran') };
        await store.saveJob(final).catch((e: unknown) => log.error({ err: e, jobId: id }, 'saving the job record failed'));
      }
      if (this.running.get(id) === entry) this.running.delete(id);
      await state.delete(RUNNING_NAMESPACE, id).catch(() => false);
      log.info({ jobId: id, name: final.name, status: final.status, rowsWritten: final.rowsWritten, rowsRejected: final.rowsRejected, error: final.error }, `batch job ${id} ${final.status}`);
      return final;
    })();
    this.running.set(id, entry);
    log.info({ jobId: id, name: job.name, origin }, `batch job ${id} started`);
    return { record, done: entry.done };
  }

  /** The ids of the jobs running in this server. */
  get runningJobs(): string[] {
    return [...this.running.keys()];
  }

  /** Resolves when the job (running here) ends; undefined when it does not run here. */
  whenDone(id: string): Promise<BatchJobRecord> | undefined {
    return this.running.get(id)?.done;
  }

  /** @throws SibylError BATCH_JOB_NOT_FOUND. */
  async get(id: string): Promise<BatchJobView> {
    const record = await this.options.store.getJob(id);
    if (record === undefined) throw notFound(id);
    return this.view(record);
  }

  /** Newest first. */
  async list(options: { limit?: number; name?: string } = {}): Promise<BatchJobView[]> {
    return (await this.options.store.listJobs(options)).map((r) => this.view(r));
  }

  /**
   * Cancels a job running in this server; resolves with its record once it stopped.
   * @throws SibylError BATCH_JOB_NOT_FOUND, or BATCH_JOB_NOT_RUNNING when it is not running here.
   */
  async cancel(id: string): Promise<BatchJobView> {
    const entry = this.running.get(id);
    if (entry === undefined) {
      const record = await this.options.store.getJob(id);
      if (record === undefined) throw notFound(id);
      throw new SibylError('BATCH_JOB_NOT_RUNNING', `batch job ${id} is ${record.status}${record.status === 'running' ? ' in another process (not this server)' : ''}; only jobs running in this server can be cancelled`);
    }
    entry.controller.abort(new SibylError('REQUEST_CANCELLED', `batch job ${id} was cancelled`));
    return this.view(await this.stopped(entry, `cancelled, but it did not stop within ${this.stopTimeoutMs} ms (its source or prediction store does not answer) and was abandoned`));
  }

  private get stopTimeoutMs(): number {
    return this.options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  }

  /**
   * The job's final record once it stopped, or — when it does not within stopTimeoutMs — the
   * record saying it was abandoned (`error`), saved and returned without waiting for the job.
   */
  private async stopped(entry: Running, error: string): Promise<BatchJobRecord> {
    const { clock, store, state, log } = this.options;
    const ended = await within(entry.done, this.stopTimeoutMs, clock);
    if (ended.settled) return ended.value;
    entry.abandoned = true;
    const id = entry.record.id;
    if (this.running.get(id) === entry) this.running.delete(id);
    const p = entry.progress;
    const final: BatchJobRecord = {
      ...entry.record,
      rowsRead: p.rowsRead,
      rowsWritten: p.rowsWritten,
      rowsRejected: p.rowsRejected,
      chunksCommitted: p.chunksCommitted,
      status: 'failed',
      finishedAtMs: clock.epochMs(),
      error,
    };
    log.error({ jobId: id, stopTimeoutMs: this.stopTimeoutMs }, `batch job ${id} did not stop within ${this.stopTimeoutMs} ms; abandoned`);
    const saved = await within(store.saveJob(final), this.stopTimeoutMs, clock);
    if (!saved.settled) log.error({ jobId: id }, `the record of abandoned batch job ${id} could not be saved within ${this.stopTimeoutMs} ms`);
    await within(state.delete(RUNNING_NAMESPACE, id), this.stopTimeoutMs, clock);
    return final;
  }

  private view(record: BatchJobRecord): BatchJobView {
    const entry = this.running.get(record.id);
    if (entry === undefined) return record;
    const p = entry.progress;
    const elapsedMs = this.options.clock.now() - entry.startedAt;
    const rowsPerSecond = elapsedMs > 0 ? ((p.rowsThisRun ?? p.rowsRead) * 1000) / elapsedMs : 0;
    const fraction = p.rowsTotal !== undefined && p.rowsTotal > 0 ? Math.min(1, p.rowsRead / p.rowsTotal) : p.chunksTotal !== undefined && p.chunksTotal > 0 ? Math.min(1, p.chunksCommitted / p.chunksTotal) : null;
    const etaSeconds = p.rowsTotal !== undefined && rowsPerSecond > 0 ? Math.max(0, p.rowsTotal - p.rowsRead) / rowsPerSecond : null;
    // The live counts are newer than the record the runner saved last.
    const status = record.status === 'queued' && p.rowsRead > 0 ? 'running' : record.status;
    return {
      ...record,
      status,
      progress: {
        rowsRead: p.rowsRead,
        rowsWritten: p.rowsWritten,
        rowsRejected: p.rowsRejected,
        chunksCommitted: p.chunksCommitted,
        chunksTotal: p.chunksTotal ?? null,
        rowsTotal: p.rowsTotal ?? null,
        elapsedMs,
        rowsPerSecond,
        etaSeconds,
        fraction,
      },
    };
  }

  /**
   * Cancels every running job and waits for them to stop (they are recorded as interrupted), each
   * at most stopTimeoutMs (then abandoned, recorded so), so it always resolves.
   */
  async close(): Promise<void> {
    this.closing = true;
    const entries = [...this.running.values()];
    for (const e of entries) e.controller.abort(new SibylError('SERVER_DRAINING', 'the server is shutting down'));
    await Promise.all(entries.map((e) => this.stopped(e, interruptedError(e.record.id, `the server shut down while the job ran, and it did not stop within ${this.stopTimeoutMs} ms (its source or prediction store does not answer), so it was abandoned`))));
  }
}

/** Whether `work` settled within `ms` (a rejection counts as settled, with its value undefined). */
async function within<T>(work: Promise<T>, ms: number, clock: Clock): Promise<{ settled: true; value: T } | { settled: false }> {
  let cancel: (() => void) | undefined;
  const timedOut = new Promise<{ settled: false }>((resolve) => (cancel = clock.setTimeout(() => resolve({ settled: false }), ms)));
  const settled = work.then(
    (value) => ({ settled: true as const, value }),
    () => ({ settled: true as const, value: undefined as T }),
  );
  try {
    return await Promise.race([settled, timedOut]);
  } finally {
    cancel?.();
  }
}

function notFound(id: string): SibylError {
  return new SibylError('BATCH_JOB_NOT_FOUND', `no batch job ${JSON.stringify(id)} in the prediction store; list them with GET /v1/batch/jobs (sibyl batch jobs)`);
}

function interruptedError(id: string, what: string): string {
  return `interrupted: ${what}; resume it with POST /v1/batch/jobs/${id}/resume (sibyl batch resume ${id}), which skips its committed chunks`;
}

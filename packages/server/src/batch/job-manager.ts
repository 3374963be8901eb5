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
// A graceful shutdown cancels running jobs and records them the same way, and records the queued
// ones (never started) the same way too.
//
// Admission: at most `maxRunningJobs` jobs run at once (a running job holds a few chunks of its
// source in memory, so memory per server is bounded by this limit times a job's chunk bytes);
// later ones wait in a FIFO queue with status `queued` (listed, cancellable) and start in order
// as slots free. At most `maxQueuedJobs` wait; one more is refused with 429 BATCH_JOB_QUEUE_FULL
// before anything is recorded.
//
// Bounds: cancel and close() wait at most `stopTimeoutMs` for a job to stop after its signal
// aborts. A job that does not (a source or store that never answers and ignores the abort) is
// abandoned: its record is saved as failed with the reason (the save itself waits at most
// `stopTimeoutMs` too), it leaves the running set, and whatever it still does is not awaited.
import { SibylError, type BatchJobProgressJson } from '@sibyl/protocol';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import { valueWithin, within } from '../core/within.ts';
import { STATE_NAMESPACES } from '../state/snapshot-schema.ts';
import type { StateStore } from '../state/state-store.ts';
import { newJobId } from './job-record.ts';
import { redactJobSpec, redactUrlsInText } from './redact-url.ts';
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
  /**
   * `sandboxed`: the spec came over the network and may read and write only what the management
   * sandbox allows (batch/job-sandbox.ts).
   * @throws SibylError (or ConfigError) saying what is wrong with the spec or file; PATH_NOT_ALLOWED outside the sandbox.
   */
  prepare(input: { spec: unknown } | { jobFile: string }, options?: { sandboxed?: boolean }): Promise<PreparedJob>;
  /** Runs to the end (or the signal) and returns the final record, which the runner has saved. */
  run(job: PreparedJob, options: { jobId: string; origin: string; signal: AbortSignal; onProgress: (progress: BatchJobProgress) => void }): Promise<BatchJobRecord>;
}

/** A job as the API shows it: its record, and while it runs here, its live progress. */
export interface BatchJobView extends BatchJobRecord {
  /** While the job is queued in this server: 1 for the next to start. */
  queuePosition?: number;
  progress?: BatchJobProgressJson;
}

interface Running {
  record: BatchJobRecord;
  /** queued: waiting for a slot (nothing runs yet); running: the runner has it. */
  phase: 'queued' | 'running';
  /** Starts the job (its slot is free). */
  begin: () => void;
  /** Lets the job's `done` go on: after begin, or after it left the queue (then with `left`). */
  release: () => void;
  /** The record of a job that left the queue without running (cancelled, or the server shut down). */
  left?: BatchJobRecord;
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
  /** Jobs running at once; later ones wait as queued. Default DEFAULT_MAX_RUNNING_JOBS. */
  maxRunningJobs?: number;
  /** Jobs waiting as queued; one more is refused (BATCH_JOB_QUEUE_FULL). Default DEFAULT_MAX_QUEUED_JOBS. */
  maxQueuedJobs?: number;
}

/** Defaults of batch.maxRunningJobs and batch.maxQueuedJobs (see server-config.ts for the reasons). */
export const DEFAULT_MAX_RUNNING_JOBS = 2;
export const DEFAULT_MAX_QUEUED_JOBS = 100;
/** Retry-After of BATCH_JOB_QUEUE_FULL: jobs last minutes to hours, so no estimate is honest; a minute keeps retries cheap. */
export const QUEUE_FULL_RETRY_AFTER_SECONDS = 60;

/** Default of BatchJobManagerOptions.stopTimeoutMs. */
export const DEFAULT_STOP_TIMEOUT_MS = 10_000;

export class BatchJobManager {
  /** Jobs of this server, queued or running, by id. */
  private readonly running = new Map<string, Running>();
  /** Ids of the queued jobs, oldest first. */
  private readonly queue: string[] = [];
  /** Places taken by jobs being recorded (admitted, not yet in `running`). */
  private reserved = 0;
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
        const what = record.status === 'queued' ? 'the server stopped while the job was queued or starting' : 'the server stopped while the job ran';
        await store.saveJob({ ...record, status: 'failed', chunksCommitted, finishedAtMs: clock.epochMs(), error: interruptedError(id, what) });
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
    const job = await this.options.runner.prepare(input, { sandboxed: sandboxedOrigin(origin) });
    return this.launch(job, origin, jobId);
  }

  /** Runs a job recorded earlier again under its id (it skips the chunks it committed). */
  async resume(id: string, origin: string): Promise<{ record: BatchJobRecord; done: Promise<BatchJobRecord> }> {
    const current = this.running.get(id);
    if (current !== undefined) throw new SibylError('BATCH_JOB_RUNNING', `batch job ${id} is ${current.phase} already; cancel it first or wait for it to end`);
    const record = await this.options.store.getJob(id);
    if (record === undefined) throw notFound(id);
    // The recorded spec runs again as its first start allowed: sandboxed when it came over the network.
    const job = await this.options.runner.prepare({ spec: record.spec }, { sandboxed: sandboxedOrigin(record.origin) });
    return this.launch(job, origin, id, record);
  }

  private get maxRunningJobs(): number {
    return this.options.maxRunningJobs ?? DEFAULT_MAX_RUNNING_JOBS;
  }

  private get maxQueuedJobs(): number {
    return this.options.maxQueuedJobs ?? DEFAULT_MAX_QUEUED_JOBS;
  }

  private get runningCount(): number {
    let n = 0;
    for (const e of this.running.values()) if (e.phase === 'running') n++;
    return n;
  }

  /**
   * Reserves a place (running or queued) for a job being recorded; `placed` gives it back.
   * @throws SibylError BATCH_JOB_QUEUE_FULL when every slot is taken and the queue is full.
   */
  private admit(): void {
    if (this.running.size + this.reserved < this.maxRunningJobs + this.maxQueuedJobs) {
      this.reserved++;
      return;
    }
    throw new SibylError(
      'BATCH_JOB_QUEUE_FULL',
      `${this.runningCount} batch jobs are running (batch.maxRunningJobs ${this.maxRunningJobs}) and ${this.queue.length} are queued (batch.maxQueuedJobs ${this.maxQueuedJobs}); retry after ${QUEUE_FULL_RETRY_AFTER_SECONDS} s, or cancel a queued job`,
      { details: { retryAfterSeconds: QUEUE_FULL_RETRY_AFTER_SECONDS } },
    );
  }

  /** Starts queued jobs, oldest first, while slots are free. */
  private pump(): void {
    while (!this.closing && this.queue.length > 0 && this.runningCount < this.maxRunningJobs) {
      const entry = this.running.get(this.queue.shift()!);
      entry?.begin();
    }
  }

  private async launch(job: PreparedJob, origin: string, jobId: string | undefined, previous?: BatchJobRecord): Promise<{ record: BatchJobRecord; done: Promise<BatchJobRecord> }> {
    const { store, state, clock, log, runner } = this.options;
    if (this.closing) throw new SibylError('SERVER_DRAINING', 'the server is shutting down and starts no batch jobs');
    this.admit();
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
    try {
      await store.saveJob(record);
      await state.put(RUNNING_NAMESPACE, id, { startedAtMs: clock.epochMs() });
    } finally {
      this.reserved--;
    }
    if (this.closing) {
      // close() began while the job was recorded: it is recorded as interrupted, as a queued one.
      await store.saveJob({ ...record, status: 'failed', finishedAtMs: clock.epochMs(), error: interruptedError(id, 'the server shut down before the job started') });
      await state.delete(RUNNING_NAMESPACE, id);
      throw new SibylError('SERVER_DRAINING', 'the server is shutting down and starts no batch jobs');
    }
    const controller = new AbortController();
    let release: () => void = () => undefined;
    const slot = new Promise<void>((resolve) => (release = resolve));
    const entry: Running = { record, phase: 'queued', begin: () => undefined, release, controller, startedAt: clock.now(), progress: { rowsRead: 0, rowsWritten: 0, rowsRejected: 0, chunksCommitted: 0 }, done: undefined as never, abandoned: false };
    entry.begin = () => {
      entry.phase = 'running';
      entry.startedAt = clock.now();
      log.info({ jobId: id, name: job.name, origin }, `batch job ${id} started`);
      release();
    };
    entry.done = (async () => {
      let final: BatchJobRecord;
      await slot;
      // Cancelled or shut down while queued: it never ran (dequeue saved its record).
      if (entry.left !== undefined) return entry.left;
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
      this.pump();
      await state.delete(RUNNING_NAMESPACE, id).catch(() => false);
      log.info({ jobId: id, name: final.name, status: final.status, rowsWritten: final.rowsWritten, rowsRejected: final.rowsRejected, error: final.error === undefined ? undefined : redactUrlsInText(final.error) }, `batch job ${id} ${final.status}`);
      return final;
    })();
    this.running.set(id, entry);
    if (this.runningCount < this.maxRunningJobs && this.queue.length === 0) entry.begin();
    else {
      this.queue.push(id);
      log.info({ jobId: id, name: job.name, origin, queuePosition: this.queue.length }, `batch job ${id} queued: ${this.runningCount} running (batch.maxRunningJobs ${this.maxRunningJobs})`);
    }
    return { record, done: entry.done };
  }

  /**
   * Takes a queued job out of the queue without running it: its record is saved with `status`
   * and `error`, and its `done` resolves with that record.
   */
  private async dequeue(entry: Running, status: 'cancelled' | 'failed', error: string): Promise<BatchJobRecord> {
    const { store, state, clock } = this.options;
    const id = entry.record.id;
    const at = this.queue.indexOf(id);
    if (at >= 0) this.queue.splice(at, 1);
    if (this.running.get(id) === entry) this.running.delete(id);
    const got = await valueWithin(store.getJob(id), this.stopTimeoutMs, clock);
    const final: BatchJobRecord = { ...((got.settled ? got.value : undefined) ?? entry.record), status, finishedAtMs: clock.epochMs(), error };
    const saved = await within(store.saveJob(final), this.stopTimeoutMs, clock);
    if (!saved) this.options.log.error({ jobId: id }, `the record of queued batch job ${id} could not be saved within ${this.stopTimeoutMs} ms`);
    await within(state.delete(RUNNING_NAMESPACE, id), this.stopTimeoutMs, clock);
    entry.left = final;
    entry.release();
    return final;
  }

  /** The ids of the jobs running in this server. */
  get runningJobs(): string[] {
    return [...this.running.values()].filter((e) => e.phase === 'running').map((e) => e.record.id);
  }

  /** The ids of the jobs queued in this server, next to start first. */
  get queuedJobs(): string[] {
    return [...this.queue];
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
    if (entry.phase === 'queued') return this.view(await this.dequeue(entry, 'cancelled', 'cancelled while queued (it never started)'));
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
    const ended = await valueWithin(entry.done, this.stopTimeoutMs, clock);
    if (ended.settled && ended.value !== undefined) return ended.value;
    entry.abandoned = true;
    const id = entry.record.id;
    if (this.running.get(id) === entry) this.running.delete(id);
    this.pump();
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
    if (!saved) log.error({ jobId: id }, `the record of abandoned batch job ${id} could not be saved within ${this.stopTimeoutMs} ms`);
    await within(state.delete(RUNNING_NAMESPACE, id), this.stopTimeoutMs, clock);
    return final;
  }

  /** The record as the API shows it: no password of a URL in its spec or error. */
  private view(stored: BatchJobRecord): BatchJobView {
    const record: BatchJobRecord = { ...stored, spec: redactJobSpec(stored.spec), ...(stored.error === undefined ? {} : { error: redactUrlsInText(stored.error) }) };
    const entry = this.running.get(record.id);
    if (entry === undefined) return record;
    if (entry.phase === 'queued') return { ...record, status: 'queued', queuePosition: this.queue.indexOf(record.id) + 1 };
    const p = entry.progress;
    const elapsedMs = this.options.clock.now() - entry.startedAt;
    const rowsPerSecond = elapsedMs > 0 ? ((p.rowsThisRun ?? p.rowsRead) * 1000) / elapsedMs : 0;
    const fraction = p.rowsTotal !== undefined && p.rowsTotal > 0 ? Math.min(1, p.rowsRead / p.rowsTotal) : p.chunksTotal !== undefined && p.chunksTotal > 0 ? Math.min(1, p.chunksCommitted / p.chunksTotal) : null;
    const etaSeconds = p.rowsTotal !== undefined && rowsPerSecond > 0 ? Math.max(0, p.rowsTotal - p.rowsRead) / rowsPerSecond : null;
    // The live counts are newer than the record the runner saved last.
    const status = record.status === 'queued' ? 'running' : record.status;
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
    const queued = this.queue.map((id) => this.running.get(id)).filter((e): e is Running => e !== undefined);
    await Promise.all(queued.map((e) => this.dequeue(e, 'failed', interruptedError(e.record.id, 'the server shut down while the job was queued (it had not started)'))));
    const entries = [...this.running.values()];
    for (const e of entries) e.controller.abort(new SibylError('SERVER_DRAINING', 'the server is shutting down'));
    await Promise.all(entries.map((e) => this.stopped(e, interruptedError(e.record.id, `the server shut down while the job ran, and it did not stop within ${this.stopTimeoutMs} ms (its source or prediction store does not answer), so it was abandoned`))));
  }
}

/**
 * Whether a job of this origin is sandboxed: everything but what the operator configured
 * (`schedule:<name>` from sibyl.yaml) or ran on the machine (`cli`, `distributed`: `sibyl batch run`).
 */
export function sandboxedOrigin(origin: string): boolean {
  return !(origin.startsWith('schedule:') || origin === 'cli' || origin === 'distributed');
}

function notFound(id: string): SibylError {
  return new SibylError('BATCH_JOB_NOT_FOUND', `no batch job ${JSON.stringify(id)} in the prediction store; list them with GET /v1/batch/jobs (sibyl batch jobs)`);
}

function interruptedError(id: string, what: string): string {
  return `interrupted: ${what}; resume it with POST /v1/batch/jobs/${id}/resume (sibyl batch resume ${id}), which skips its committed chunks`;
}

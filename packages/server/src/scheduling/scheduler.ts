// The queue in front of one model version's instances: dynamic batching, priorities, deadlines
// and backpressure. The decision of what to run is decideBatch() (pure); this class only keeps
// the queue, the timer and the bookkeeping, and moves batches to instances with room for them.
// When an execution fails, its requests are isolated (decideIsolation, pure): run again in
// halves, so that only the request that caused the failure fails, and a batch's error text
// reaches no request that did not run alone.
import { SibylError, elementCount, type Tensor } from '@sibyl/protocol';
import type { Cancellation } from '../core/cancellation.ts';
import type { Clock, CancelTimer } from '../core/clock.ts';
import type { Instance } from '../runtimes/runtime.ts';
import { splitOutputs } from '../core/batch-tensors.ts';
import { decideBatch, type BatchingPolicy } from './batch-decision.ts';
import type { InstancePool } from './instance-pool.ts';
import { NEW_VERSION_HEALTH, WARMED_UP_HEALTH, decideIsolation, errorKind, inputError, recordOutcome, versionFails, versionServes, withheldError, type VersionHealth } from './isolation.ts';
import type { ExecutedBatch, IsolationOutcome, SchedulerObserver } from './scheduler-observer.ts';
import { VersionStatistics } from './statistics.ts';

export interface SchedulerOptions extends BatchingPolicy {
  /** Most requests waiting; one more is refused with QUEUE_FULL (429). 0: no limit. */
  maxQueueSize: number;
  clock: Clock;
  /** `model 'm' version 1`, for messages. */
  label: string;
  /** Told about every execution (metrics, tracing). */
  observer?: SchedulerObserver;
  /**
   * The version's instances answered warm-up executions before the scheduler took requests: it is
   * known to answer, so a request that fails alone on it is blamed on its input (see isolation.ts).
   * Default: false.
   */
  warmedUp?: boolean;
  /**
   * Makes a request the version should answer (generated from its signature, as warm-up's are).
   * Run at most once, when a request fails alone before the version answered anything: its
   * success is the evidence that the version answers others, so that request's failure is its
   * input's (400); its failure leaves the blame on the version (500). Omitted: no probe, and such
   * a failure is the server's.
   */
  probe?: () => ProbeRequest;
}

/** A request generated to learn whether a version answers at all (SchedulerOptions.probe). */
export interface ProbeRequest {
  /** Handed to the instance, which may take their buffers. */
  inputs: Tensor[];
  outputNames: string[];
  /** Rows of the probe (its batch dimension), for the observer. */
  rows: number;
}

/** One request as the scheduler sees it. */
export interface ScheduledRequest {
  inputs: Tensor[];
  outputNames: string[];
  /** Rows of the request (its batch dimension); 1 for models that do not batch. */
  rows: number;
  /** Requests combine only when their keys are equal (see batchKeyOf). */
  batchKey: string;
}

export interface SubmitOptions {
  /** Aborting removes a request that is still queued (a client that went away). */
  signal?: Cancellation;
  /**
   * Clock time (ms) after which the request fails with DEADLINE_EXCEEDED: never run if still
   * queued; answered at once if executing (the execution goes on, its result for this request is
   * dropped).
   */
  deadlineMs?: number;
  /** Lower runs first; requests of equal priority run in arrival order. Default: 0. */
  priority?: number;
  /** Handed back to the observer with this request's execution (see ExecutedMember.trace). */
  trace?: unknown;
}

interface Job {
  request: ScheduledRequest;
  rows: number;
  batchKey: string;
  priority: number;
  enqueuedAtMs: number;
  deadlineMs: number;
  resolve: (outputs: Tensor[]) => void;
  reject: (err: Error) => void;
  signal: Cancellation | undefined;
  onAbort: (() => void) | undefined;
  trace: unknown;
  /** Runs in an execution of its own (see QueuedView.alone). */
  alone: boolean;
  /** Was queued again after the instance running its batch died (once at most). */
  crashRetried: boolean;
  /** Answered already (its deadline passed while it executed); the execution's result is dropped. */
  settled: boolean;
}

/**
 * The batch key of a request: input names, datatypes and non-batch dimensions (in name order, so
 * the order a client lists inputs in does not matter), and the outputs.
 */
export function batchKeyOf(inputs: readonly Tensor[], outputNames: readonly string[]): string {
  const ordered = inputs.length > 1 ? [...inputs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) : inputs;
  let key = '';
  for (const t of ordered) key += `${t.name}:${t.datatype}:${t.shape.slice(1).join('x')};`;
  return `${key}|${outputNames.join(',')}`;
}

/** One execution under way: its requests, and where and since when it runs (for error messages). */
interface Execution {
  readonly members: readonly Job[];
  readonly instanceLabel: string;
  readonly startMs: number;
}

export class Scheduler {
  readonly statistics = new VersionStatistics();
  private readonly queue: Job[] = [];
  private inFlight = 0;
  /** Executions under way (their members' deadlines are watched by the deadline timer). */
  private readonly executing = new Set<Execution>();
  private stopped = false;
  private readonly idleWaiters: (() => void)[] = [];
  /** Recent execution time (ms, exponentially averaged), for Retry-After estimates. */
  private executionMsAverage = 0;

  constructor(
    private readonly pool: InstancePool,
    private readonly options: SchedulerOptions,
  ) {
    if (options.warmedUp === true) this.health = WARMED_UP_HEALTH;
    pool.onAvailable(() => this.pump());
    // No instance left and none can be loaded: what waits would only wait for its deadline.
    pool.onUnavailable((reason) => this.cancelQueued(new SibylError('MODEL_NOT_READY', `${options.label} has no running instance: ${reason}`)));
  }

  /** Requests waiting for an instance. */
  get queueDepth(): number {
    return this.queue.length;
  }

  /** Requests queued or executing. */
  get pending(): number {
    return this.queue.length + this.inFlight;
  }

  /**
   * Queues a request. Ownership of its input buffers passes to the scheduler.
   * @throws SibylError MODEL_NOT_READY after stop(); QUEUE_FULL when the queue is at
   *   maxQueueSize (details.retryAfterSeconds says when to retry); REQUEST_CANCELLED when aborted
   *   while queued; DEADLINE_EXCEEDED when the deadline passed while queued (or while its failed
   *   batch was isolated); INPUT_REJECTED_BY_MODEL when the model failed on this request alone
   *   while it answers others; RUNTIME_FAILED when the version fails (the runtime's message only
   *   when the request ran alone); INSTANCE_CRASHED when the instance died running it (a request
   *   co-batched with others is first queued again, once, to run alone).
   */
  submit(request: ScheduledRequest, options: SubmitOptions = {}): Promise<Tensor[]> {
    const { clock, label, maxQueueSize } = this.options;
    if (this.stopped) return Promise.reject(new SibylError('MODEL_NOT_READY', `${label} is unloading and takes no new requests`));
    if (options.signal?.aborted) return Promise.reject(new SibylError('REQUEST_CANCELLED', 'the request was cancelled before it was queued'));
    const unavailable = this.pool.unavailableReason;
    if (unavailable !== undefined) return Promise.reject(new SibylError('MODEL_NOT_READY', `${label} has no running instance: ${unavailable}`));
    if (maxQueueSize > 0 && this.queue.length >= maxQueueSize) {
      const retryAfterSeconds = this.retryAfterSeconds();
      return Promise.reject(
        new SibylError('QUEUE_FULL', `${label} has ${this.queue.length} requests queued, its limit (maxQueueSize); retry after ${retryAfterSeconds} s`, {
          details: { retryAfterSeconds },
        }),
      );
    }
    const now = clock.now();
    if (options.deadlineMs !== undefined && options.deadlineMs <= now) {
      return Promise.reject(new SibylError('DEADLINE_EXCEEDED', `the request's deadline passed before it reached ${label}`));
    }
    return new Promise<Tensor[]>((resolve, reject) => {
      const job: Job = {
        request,
        rows: request.rows,
        batchKey: request.batchKey,
        priority: options.priority ?? 0,
        enqueuedAtMs: now,
        deadlineMs: options.deadlineMs ?? Number.POSITIVE_INFINITY,
        resolve,
        reject,
        signal: options.signal,
        onAbort: undefined,
        trace: options.trace,
        alone: false,
        crashRetried: false,
        settled: false,
      };
      this.enqueue(job, false);
      this.pump();
    });
  }

  /** Puts a job in the queue, watching its signal and deadline. `front`: first of its priority. */
  private enqueue(job: Job, front: boolean): void {
    if (job.signal !== undefined) {
      job.onAbort = () => {
        if (this.remove(job)) this.fail(job, new SibylError('REQUEST_CANCELLED', 'the client went away while the request was queued'));
      };
      job.signal.addEventListener('abort', job.onAbort, { once: true });
    }
    this.insert(job, front);
    if (job.deadlineMs < this.deadlineTimerAtMs) this.armDeadlineTimer(job.deadlineMs);
  }

  /** Stops admission; queued and executing requests still finish. */
  stop(): void {
    this.stopped = true;
  }

  /** Rejects every queued (not yet executing) request with `err`; executing ones finish. */
  cancelQueued(err: Error): void {
    for (const job of this.queue.splice(0)) {
      this.detach(job);
      this.fail(job, err);
    }
    this.notifyIfIdle();
  }

  /** Resolves when nothing is queued or executing. */
  whenIdle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Keeps the queue in service order: priority, then arrival (`front`: before its equals). */
  private insert(job: Job, front: boolean): void {
    let i = this.queue.length;
    while (i > 0 && (this.queue[i - 1]!.priority > job.priority || (front && this.queue[i - 1]!.priority === job.priority))) i--;
    this.queue.splice(i, 0, job);
  }

  private remove(job: Job): boolean {
    const at = this.queue.indexOf(job);
    if (at < 0) return false;
    this.queue.splice(at, 1);
    this.detach(job);
    this.notifyIfIdle();
    return true;
  }

  private detach(job: Job): void {
    if (job.onAbort !== undefined) job.signal!.removeEventListener('abort', job.onAbort);
  }

  private succeed(job: Job, outputs: Tensor[], now: number): void {
    if (job.settled) return;
    job.settled = true;
    this.statistics.recordRequest(true, now - job.enqueuedAtMs);
    job.resolve(outputs);
  }

  private fail(job: Job, err: Error): void {
    if (job.settled) return;
    job.settled = true;
    this.statistics.recordRequest(false, this.options.clock.now() - job.enqueuedAtMs);
    job.reject(err);
  }

  private executingDeadlineError(job: Job, execution: Execution, now: number): SibylError {
    return new SibylError(
      'DEADLINE_EXCEEDED',
      `${this.options.label} did not answer before the request's deadline: it ran for ${(now - execution.startMs).toFixed(0)} ms on instance ${execution.instanceLabel} (after ${(execution.startMs - job.enqueuedAtMs).toFixed(1)} ms queued) and is still running`,
    );
  }

  private deadlineError(job: Job, now: number): SibylError {
    return new SibylError(
      'DEADLINE_EXCEEDED',
      `the request waited ${(now - job.enqueuedAtMs).toFixed(1)} ms in ${this.options.label}'s queue and its deadline passed before it could run`,
    );
  }

  /**
   * Deadlines are enforced by one timer at the earliest deadline seen, for queued and executing
   * requests alike. It is re-armed only when a request with an earlier deadline arrives, so a
   * request costs no scan of the queue and an execution no timer of its own; when it fires,
   * expired requests fail — queued ones never run; executing ones are answered at once, the
   * execution goes on and its result for them is dropped (a model that hangs must not hang its
   * callers) — and the timer moves to the next deadline. It stops when nothing is pending.
   */
  private deadlineTimerAtMs = Number.POSITIVE_INFINITY;
  private cancelDeadlineTimer: CancelTimer | undefined;

  private armDeadlineTimer(atMs: number): void {
    this.cancelDeadlineTimer?.();
    this.deadlineTimerAtMs = atMs;
    this.cancelDeadlineTimer =
      atMs === Number.POSITIVE_INFINITY ? undefined : this.options.clock.setTimeout(() => this.onDeadlineTimer(), atMs - this.options.clock.now());
  }

  private onDeadlineTimer(): void {
    const now = this.options.clock.now();
    let next = Number.POSITIVE_INFINITY;
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const job = this.queue[i]!;
      if (job.deadlineMs <= now) {
        this.queue.splice(i, 1);
        this.detach(job);
        this.fail(job, this.deadlineError(job, now));
      } else if (job.deadlineMs < next) {
        next = job.deadlineMs;
      }
    }
    for (const execution of this.executing) {
      for (const job of execution.members) {
        if (job.settled) continue;
        if (job.deadlineMs <= now) this.fail(job, this.executingDeadlineError(job, execution, now));
        else if (job.deadlineMs < next) next = job.deadlineMs;
      }
    }
    this.cancelDeadlineTimer = undefined;
    this.deadlineTimerAtMs = Number.POSITIVE_INFINITY;
    if (next !== Number.POSITIVE_INFINITY) this.armDeadlineTimer(next);
    this.notifyIfIdle();
    this.pump();
  }

  /** The batching wait: one timer at the time the batch decision asked to decide again. */
  private delayTimerAtMs = Number.POSITIVE_INFINITY;
  private cancelDelayTimer: CancelTimer | undefined;

  private armDelayTimer(atMs: number): void {
    if (atMs === this.delayTimerAtMs) return;
    this.cancelDelayTimer?.();
    this.delayTimerAtMs = atMs;
    this.cancelDelayTimer =
      atMs === Number.POSITIVE_INFINITY
        ? undefined
        : this.options.clock.setTimeout(() => {
            this.cancelDelayTimer = undefined;
            this.delayTimerAtMs = Number.POSITIVE_INFINITY;
            this.pump();
          }, atMs - this.options.clock.now());
  }

  /** Runs batches on instances with room while the decision says so; arms the delay timer otherwise. */
  private pump(): void {
    let waitUntil = Number.POSITIVE_INFINITY;
    while (this.queue.length > 0 && this.pool.availableCount > 0) {
      const now = this.options.clock.now();
      const decision = decideBatch(this.queue, this.options, now);
      if (decision.kind === 'empty') break;
      if (decision.kind === 'wait') {
        waitUntil = decision.untilMs;
        break;
      }
      // Take the members out of the queue; one whose deadline has just passed (its timer not yet
      // fired) fails instead of running.
      let members: Job[] = [];
      let rows = 0;
      for (let k = decision.take.length - 1; k >= 0; k--) {
        const job = this.queue.splice(decision.take[k]!, 1)[0]!;
        this.detach(job);
        if (job.deadlineMs <= now) this.fail(job, this.deadlineError(job, now));
        else {
          members.push(job);
          rows += job.rows;
        }
      }
      if (members.length === 0) continue;
      members = members.reverse();
      void this.execute(this.pool.acquire()!, members, rows, now);
    }
    this.armDelayTimer(waitUntil);
    this.notifyIfIdle();
  }

  private async execute(instance: Instance, members: Job[], rows: number, startMs: number): Promise<void> {
    this.inFlight += members.length;
    for (const job of members) this.statistics.recordQueued(startMs - job.enqueuedAtMs);
    // Its members' deadlines are already covered by the deadline timer (see armDeadlineTimer).
    const execution: Execution = { members, instanceLabel: instance.label, startMs };
    this.executing.add(execution);
    try {
      const error = await this.run(instance, members, rows, startMs, members[0]!.crashRetried ? 'instance_crashed' : undefined);
      if (error !== undefined) await this.isolate(instance, members, error);
    } finally {
      this.executing.delete(execution);
      this.inFlight -= members.length;
      this.pool.release(instance);
      this.pump();
    }
  }

  /**
   * Runs `members` as one execution and answers them when it succeeds. When the instance fails
   * it, returns the error and leaves the members unanswered (their inputs readable again, see
   * Instance.execute).
   */
  private async run(instance: Instance, members: Job[], rows: number, startMs: number, isolation: ExecutedBatch['isolation']): Promise<SibylError | undefined> {
    const { clock, observer } = this.options;
    let result;
    try {
      result = await instance.execute(
        members.map((m) => m.request.inputs),
        members[0]!.request.outputNames,
      );
    } catch (err) {
      const error = err instanceof SibylError ? err : new SibylError('RUNTIME_FAILED', `${this.options.label} failed: ${(err as Error).message}`, { cause: err });
      observer?.executed({ rows, startMs, endMs: clock.now(), members, failed: true, isolation });
      return error;
    } finally {
      // The instance stays acquired between an isolation's runs: each run it ends is progress.
      if (isolation === 'run_failed') this.pool.progressed(instance);
    }
    this.health = recordOutcome(this.health, true);
    const received = clock.now();
    let parts: Tensor[][];
    try {
      parts = splitOutputs(result.outputs, members.map((m) => m.rows));
    } catch (err) {
      // The model's outputs do not keep the batch dimension: its fault, and nothing of any input.
      const error = new SibylError('RUNTIME_FAILED', `${this.options.label} failed: ${(err as Error).message}`, { cause: err });
      observer?.executed({ rows, startMs, endMs: clock.now(), members, failed: true, isolation });
      for (const job of members) this.fail(job, error);
      return undefined;
    }
    const done = clock.now();
    const executionMs = done - startMs;
    this.executionMsAverage = this.executionMsAverage === 0 ? executionMs : 0.8 * this.executionMsAverage + 0.2 * executionMs;
    // compute_input: moving tensors to and from the instance and assembling the batch, i.e.
    // everything between dispatch and the answer that the instance did not spend computing.
    const inputMs = Math.max(0, received - startMs - result.inferMs - result.outputMs);
    this.statistics.recordExecution(rows, members.length, { inputMs, inferMs: result.inferMs, outputMs: result.outputMs + (done - received) }, clock.epochMs());
    observer?.executed({ rows, startMs, endMs: done, members, failed: false, isolation });
    for (let i = 0; i < members.length; i++) this.succeed(members[i]!, parts[i]!, done);
    return undefined;
  }

  /** What the version's recent executions say (see isolation.ts); warm-up counts as a success. */
  private health: VersionHealth = NEW_VERSION_HEALTH;
  /** The version's probe once it started (it runs once; concurrent isolations wait for the same). */
  private probeRun: Promise<void> | undefined;
  /** The probe has run: what it showed is in `health`. */
  private probed = false;

  /**
   * Runs the version's probe on `instance` (once per scheduler: later callers get the same run)
   * and records what it showed in the version's health: a success as any execution's; a failure
   * as a lone failure when it reads as the server's (a failure the runtime calls the input's says
   * only that generated inputs do not suit the model). `cause` is the request whose lone failure
   * asked for it (for tracing).
   */
  private runProbe(instance: Instance, cause: Job): Promise<void> {
    this.probeRun ??= (async () => {
      const { clock, observer } = this.options;
      const startMs = clock.now();
      let failed = false;
      let rows = 1;
      try {
        const request = this.options.probe!();
        rows = request.rows;
        await instance.execute([request.inputs], request.outputNames);
        this.health = recordOutcome(this.health, true);
      } catch (err) {
        failed = true;
        const error = err instanceof SibylError ? err : new SibylError('RUNTIME_FAILED', err instanceof Error ? err.message : String(err));
        if (errorKind(error) === 'server') this.health = recordOutcome(this.health, false);
      } finally {
        this.pool.progressed(instance);
      }
      this.probed = true;
      observer?.executed({ rows, startMs, endMs: clock.now(), members: [cause], failed, isolation: 'probe' });
    })();
    return this.probeRun;
  }

  /**
   * Answers the members of a failed execution: level by level, the pieces the decision asks for
   * run again on the same instance (queued in its inbox together), until every member is answered
   * or blamed. Members whose instance died are queued again instead (see afterCrash).
   */
  private async isolate(instance: Instance, members: Job[], error: SibylError): Promise<void> {
    const { clock, label } = this.options;
    this.pool.progressed(instance); // the failed execution ended; each re-run below counts too (see run)
    let level: { members: Job[]; first: boolean; error: SibylError }[] = [{ members, first: true, error }];
    let siblingSucceeded = false;
    while (level.length > 0) {
      if (level[0]!.error.reason === 'INSTANCE_CRASHED') {
        this.afterCrash(level.flatMap((p) => p.members), level[0]!.error);
        return;
      }
      // A lone run's failure counts against the version unless this isolation has shown that the
      // version answers others (then it is the request's); a batch's failure may be one member's.
      for (const piece of level) {
        if (piece.members.length === 1 && !siblingSucceeded && errorKind(piece.error) === 'server') this.health = recordOutcome(this.health, false);
      }
      let pieces: Job[][] = [];
      const decide = (piece: (typeof level)[number]) =>
        decideIsolation(
          { members: piece.members.length, first: piece.first, error: errorKind(piece.error) },
          {
            versionServes: versionServes(this.health),
            versionFails: versionFails(this.health),
            siblingSucceeded,
            // Not run yet, or running for another isolation (then this one waits for it too).
            probeAvailable: this.options.probe !== undefined && !this.probed && !this.health.succeeded,
          },
        );
      for (const piece of level) {
        let step = decide(piece);
        if (step.kind === 'probe') {
          await this.runProbe(instance, piece.members[0]!);
          step = decide(piece);
        }
        if (step.kind === 'split') pieces.push(piece.members.slice(0, step.at), piece.members.slice(step.at));
        else if (step.kind === 'retry-alone') pieces.push(piece.members);
        else if (step.kind === 'blame-input') this.failIsolated(piece.members, inputError(label, piece.error), 'input_rejected');
        // A lone member's error is its own; a batch's may describe the others' inputs.
        else this.failIsolated(piece.members, piece.members.length === 1 ? piece.error : withheldError(label, piece.members.length, piece.error), 'failed');
      }
      // Members whose deadline passed or whose client went away meanwhile do not run again.
      const now = clock.now();
      pieces = pieces.map((piece) => piece.filter((job) => this.stillWanted(job, now))).filter((piece) => piece.length > 0);
      if (pieces.length === 0) return;
      if (!instance.alive) {
        this.afterCrash(pieces.flat(), new SibylError('INSTANCE_CRASHED', `${label}: its instance ${instance.label} died while a failed batch was being run again`));
        return;
      }
      const startMs = clock.now();
      const errors = await Promise.all(pieces.map((piece) => this.run(instance, piece, piece.reduce((n, job) => n + job.rows, 0), startMs, 'run_failed')));
      level = [];
      const crashed: Job[] = [];
      let crash: SibylError | undefined;
      errors.forEach((err, i) => {
        const piece = pieces[i]!;
        if (err === undefined) {
          siblingSucceeded = true;
          this.options.observer?.isolated?.('answered', piece.length);
        } else if (err.reason === 'INSTANCE_CRASHED') {
          crashed.push(...piece);
          crash = err;
        } else {
          level.push({ members: piece, first: false, error: err });
        }
      });
      if (crash !== undefined) this.afterCrash(crashed, crash);
    }
  }

  /**
   * Members of an execution whose instance died: when the execution held several requests, each
   * whose inputs are still readable (not moved to the dead worker) is queued again, once, to run
   * alone on another instance — one of them may have killed the worker, so none joins a batch.
   * The others, and a request that ran alone, fail with the crash.
   */
  private afterCrash(members: Job[], error: SibylError): void {
    for (const job of members) {
      // Answered already (its deadline passed while the instance ran it): nothing to run again.
      if (job.settled) continue;
      if (members.length > 1 && !job.crashRetried && !this.pool.closed && inputsReadable(job.request.inputs)) {
        job.crashRetried = true;
        job.alone = true;
        this.enqueue(job, true);
      } else {
        this.failIsolated([job], error, 'failed');
      }
    }
  }

  /** False (after failing it) for a job answered already, whose deadline passed or whose client went away. */
  private stillWanted(job: Job, now: number): boolean {
    if (job.settled) return false;
    if (job.deadlineMs <= now) {
      this.failIsolated([job], new SibylError('DEADLINE_EXCEEDED', `the request's batch in ${this.options.label} failed, and its deadline passed before it could run again`), 'failed');
      return false;
    }
    if (job.signal?.aborted === true) {
      this.failIsolated([job], new SibylError('REQUEST_CANCELLED', 'the client went away while its failed batch was being run again'), 'failed');
      return false;
    }
    return true;
  }

  /** Fails the jobs not answered yet (one may have been, at its deadline) and counts them. */
  private failIsolated(jobs: readonly Job[], error: SibylError, outcome: IsolationOutcome): void {
    let failed = 0;
    for (const job of jobs) {
      if (job.settled) continue;
      this.fail(job, error);
      failed++;
    }
    if (failed > 0) this.options.observer?.isolated?.(outcome, failed);
  }

  /** Seconds a refused client should wait: the time to work off the queue, at least 1. */
  private retryAfterSeconds(): number {
    const instances = Math.max(1, this.pool.size);
    const batches = this.options.maxBatchSize > 0 ? this.queue.length / this.options.maxBatchSize : this.queue.length;
    return Math.max(1, Math.ceil((batches * this.executionMsAverage) / instances / 1000));
  }

  private notifyIfIdle(): void {
    if (this.pending !== 0) return;
    // Nothing queued or executing: no deadline left to watch.
    if (this.cancelDeadlineTimer !== undefined) this.armDeadlineTimer(Number.POSITIVE_INFINITY);
    for (const fn of this.idleWaiters.splice(0)) fn();
  }
}

/** Whether every input still holds its data (an instance may have moved its buffers away). */
function inputsReadable(inputs: readonly Tensor[]): boolean {
  return inputs.every((t) => Array.isArray(t.data) || t.data.length === elementCount(t.shape));
}

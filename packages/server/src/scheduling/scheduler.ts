// The queue in front of one model version's instances: dynamic batching, priorities, deadlines
// and backpressure. The decision of what to run is decideBatch() (pure); this class only keeps
// the queue, the timer and the bookkeeping, and moves batches to instances with room for them.
import { SibylError, type Tensor } from '@sibyl/protocol';
import type { Clock, CancelTimer } from '../core/clock.ts';
import { concatInputs, splitOutputs } from './batch-assembly.ts';
import { decideBatch, type BatchingPolicy } from './batch-decision.ts';
import type { InstancePool } from './instance-pool.ts';
import { VersionStatistics } from './statistics.ts';

export interface SchedulerOptions extends BatchingPolicy {
  /** Most requests waiting; one more is refused with QUEUE_FULL (429). 0: no limit. */
  maxQueueSize: number;
  clock: Clock;
  /** `model 'm' version 1`, for messages. */
  label: string;
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
  signal?: AbortSignal;
  /** Clock time (ms) after which a still-queued request fails with DEADLINE_EXCEEDED, never run. */
  deadlineMs?: number;
  /** Lower runs first; requests of equal priority run in arrival order. Default: 0. */
  priority?: number;
}

interface Job extends ScheduledRequest {
  seq: number;
  priority: number;
  enqueuedAtMs: number;
  deadlineMs: number;
  resolve: (outputs: Tensor[]) => void;
  reject: (err: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** The batch key of a request: input names, datatypes and non-batch dimensions, and the outputs. */
export function batchKeyOf(inputs: readonly Tensor[], outputNames: readonly string[]): string {
  let key = '';
  for (const t of inputs) key += `${t.name}:${t.datatype}:${t.shape.slice(1).join('x')};`;
  return `${key}|${outputNames.join(',')}`;
}

export class Scheduler {
  readonly statistics = new VersionStatistics();
  private readonly queue: Job[] = [];
  private seq = 0;
  private inFlight = 0;
  private stopped = false;
  private readonly idleWaiters: (() => void)[] = [];
  private timer: { atMs: number; cancel: CancelTimer } | undefined;
  /** Recent execution time (ms, exponentially averaged), for Retry-After estimates. */
  private executionMsAverage = 0;

  constructor(
    private readonly pool: InstancePool,
    private readonly options: SchedulerOptions,
  ) {
    pool.onIdle(() => this.pump());
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
   *   while queued; DEADLINE_EXCEEDED when the deadline passed while queued; whatever the
   *   instance throws (RUNTIME_FAILED, INSTANCE_CRASHED).
   */
  submit(request: ScheduledRequest, options: SubmitOptions = {}): Promise<Tensor[]> {
    const { clock, label, maxQueueSize } = this.options;
    if (this.stopped) return Promise.reject(new SibylError('MODEL_NOT_READY', `${label} is unloading and takes no new requests`));
    if (options.signal?.aborted) return Promise.reject(new SibylError('REQUEST_CANCELLED', 'the request was cancelled before it was queued'));
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
        ...request,
        seq: this.seq++,
        priority: options.priority ?? 0,
        enqueuedAtMs: now,
        deadlineMs: options.deadlineMs ?? Number.POSITIVE_INFINITY,
        resolve: (outputs) => {
          this.statistics.recordRequest(true, clock.now() - now);
          resolve(outputs);
        },
        reject: (err) => {
          this.statistics.recordRequest(false, clock.now() - now);
          reject(err);
        },
        signal: options.signal,
        onAbort: undefined,
      };
      if (options.signal !== undefined) {
        job.onAbort = () => {
          if (this.remove(job)) job.reject(new SibylError('REQUEST_CANCELLED', 'the client went away while the request was queued'));
        };
        options.signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.insert(job);
      this.pump();
    });
  }

  /** Stops admission; queued and executing requests still finish. */
  stop(): void {
    this.stopped = true;
  }

  /** Rejects every queued (not yet executing) request with `err`; executing ones finish. */
  cancelQueued(err: Error): void {
    for (const job of this.queue.splice(0)) this.finishQueued(job, err);
    this.rearm();
    this.notifyIfIdle();
  }

  /** Resolves when nothing is queued or executing. */
  whenIdle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Keeps the queue in service order: priority, then arrival. */
  private insert(job: Job): void {
    let i = this.queue.length;
    while (i > 0 && this.queue[i - 1]!.priority > job.priority) i--;
    this.queue.splice(i, 0, job);
  }

  private remove(job: Job): boolean {
    const at = this.queue.indexOf(job);
    if (at < 0) return false;
    this.queue.splice(at, 1);
    if (job.onAbort !== undefined) job.signal?.removeEventListener('abort', job.onAbort);
    this.rearm();
    this.notifyIfIdle();
    return true;
  }

  private finishQueued(job: Job, err: Error): void {
    if (job.onAbort !== undefined) job.signal?.removeEventListener('abort', job.onAbort);
    job.reject(err);
  }

  /** Fails queued requests whose deadline has passed; they are never run. */
  private expire(now: number): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const job = this.queue[i]!;
      if (job.deadlineMs <= now) {
        this.queue.splice(i, 1);
        this.finishQueued(job, new SibylError('DEADLINE_EXCEEDED', `the request waited ${(now - job.enqueuedAtMs).toFixed(1)} ms in ${this.options.label}'s queue and its deadline passed before it could run`));
      }
    }
  }

  /** Runs batches on instances with room while the decision says so; arms the timer otherwise. */
  private pump(): void {
    const { clock } = this.options;
    let waitUntil = Number.POSITIVE_INFINITY;
    for (;;) {
      const now = clock.now();
      this.expire(now);
      if (this.queue.length === 0 || this.pool.availableCount === 0) break;
      const decision = decideBatch(this.queue, this.options, now);
      if (decision.kind === 'empty') break;
      if (decision.kind === 'wait') {
        waitUntil = decision.untilMs;
        break;
      }
      const instance = this.pool.acquire()!;
      const members = decision.take.map((i) => this.queue[i]!);
      for (let k = decision.take.length - 1; k >= 0; k--) this.queue.splice(decision.take[k]!, 1);
      void this.execute(instance, members, decision.rows, now);
    }
    this.rearm(waitUntil);
    this.notifyIfIdle();
  }

  /** Keeps one timer, at the earlier of the batching wait and the next deadline. */
  private rearm(waitUntil = Number.POSITIVE_INFINITY): void {
    let atMs = waitUntil;
    for (const job of this.queue) if (job.deadlineMs < atMs) atMs = job.deadlineMs;
    if (this.timer !== undefined && this.timer.atMs === atMs) return;
    this.timer?.cancel();
    this.timer = undefined;
    if (atMs === Number.POSITIVE_INFINITY) return;
    const cancel = this.options.clock.setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, atMs - this.options.clock.now());
    this.timer = { atMs, cancel };
  }

  private async execute(instance: Parameters<InstancePool['release']>[0], members: Job[], rows: number, startMs: number): Promise<void> {
    const { clock } = this.options;
    this.inFlight += members.length;
    for (const job of members) {
      if (job.onAbort !== undefined) job.signal?.removeEventListener('abort', job.onAbort);
      this.statistics.recordQueued(startMs - job.enqueuedAtMs);
    }
    try {
      const inputs = concatInputs(members.map((m) => m.inputs));
      const result = await instance.execute(inputs, members[0]!.outputNames);
      const received = clock.now();
      const parts = splitOutputs(result.outputs, members.map((m) => m.rows));
      const done = clock.now();
      const executionMs = done - startMs;
      this.executionMsAverage = this.executionMsAverage === 0 ? executionMs : 0.8 * this.executionMsAverage + 0.2 * executionMs;
      // compute_input: assembling the batch and moving tensors to and from the instance, i.e.
      // everything between dispatch and the answer that the instance did not spend computing.
      const inputMs = Math.max(0, received - startMs - result.inferMs - result.outputMs);
      this.statistics.recordExecution(rows, members.length, { inputMs, inferMs: result.inferMs, outputMs: result.outputMs + (done - received) }, clock.epochMs());
      members.forEach((job, i) => job.resolve(parts[i]!));
    } catch (err) {
      const error = err instanceof SibylError ? err : new SibylError('RUNTIME_FAILED', `${this.options.label} failed: ${(err as Error).message}`, { cause: err });
      for (const job of members) job.reject(error);
    } finally {
      this.inFlight -= members.length;
      this.pool.release(instance);
      this.pump();
    }
  }

  /** Seconds a refused client should wait: the time to work off the queue, at least 1. */
  private retryAfterSeconds(): number {
    const instances = Math.max(1, this.pool.size);
    const batches = this.options.maxBatchSize > 0 ? this.queue.length / this.options.maxBatchSize : this.queue.length;
    return Math.max(1, Math.ceil((batches * this.executionMsAverage) / instances / 1000));
  }

  private notifyIfIdle(): void {
    if (this.pending !== 0) return;
    for (const fn of this.idleWaiters.splice(0)) fn();
  }
}

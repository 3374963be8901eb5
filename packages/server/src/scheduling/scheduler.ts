// The queue in front of one model version's instances. Requests wait in FIFO order and go to
// the next idle instance. Dynamic batching, priorities, deadlines and queue limits build on this
// queue (issue 3); the request path makes no per-request copies for them to undo.
import { SibylError, type Tensor } from '@sibyl/protocol';
import type { InstancePool } from './instance-pool.ts';

interface Job {
  inputs: Tensor[];
  outputNames: string[];
  resolve: (outputs: Tensor[]) => void;
  reject: (err: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export class Scheduler {
  private readonly queue: Job[] = [];
  private inFlight = 0;
  private stopped = false;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly pool: InstancePool,
    private readonly label: string,
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
   * Queues one execution. Ownership of the input buffers passes to the scheduler.
   * A request whose `signal` aborts while it is still queued is removed and never run.
   * @throws SibylError MODEL_NOT_READY after stop(); REQUEST_CANCELLED when aborted while queued;
   *   whatever the instance throws (RUNTIME_FAILED, INSTANCE_CRASHED).
   */
  submit(inputs: Tensor[], outputNames: string[], signal?: AbortSignal): Promise<Tensor[]> {
    if (this.stopped) return Promise.reject(new SibylError('MODEL_NOT_READY', `${this.label} is unloading and takes no new requests`));
    if (signal?.aborted) return Promise.reject(new SibylError('REQUEST_CANCELLED', 'the request was cancelled before it was queued'));
    return new Promise<Tensor[]>((resolve, reject) => {
      const job: Job = { inputs, outputNames, resolve, reject, signal, onAbort: undefined };
      if (signal !== undefined) {
        job.onAbort = () => {
          const at = this.queue.indexOf(job);
          if (at < 0) return; // already running: it finishes, its answer is dropped by the caller
          this.queue.splice(at, 1);
          reject(new SibylError('REQUEST_CANCELLED', 'the request was cancelled while queued'));
          this.notifyIfIdle();
        };
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.queue.push(job);
      this.pump();
    });
  }

  /** Stops admission; queued and running requests still finish. */
  stop(): void {
    this.stopped = true;
  }

  /** Rejects every queued (not yet executing) request with `err`; executing ones finish. */
  cancelQueued(err: Error): void {
    for (const job of this.queue.splice(0)) {
      if (job.onAbort !== undefined) job.signal?.removeEventListener('abort', job.onAbort);
      job.reject(err);
    }
    this.notifyIfIdle();
  }

  /** Resolves when nothing is queued or executing. */
  whenIdle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const instance = this.pool.acquire();
      if (instance === undefined) return;
      const job = this.queue.shift()!;
      if (job.onAbort !== undefined) job.signal?.removeEventListener('abort', job.onAbort);
      this.inFlight++;
      instance.execute(job.inputs, job.outputNames).then(job.resolve, job.reject).finally(() => {
        this.inFlight--;
        this.pool.release(instance);
        this.pump();
        this.notifyIfIdle();
      });
    }
  }

  private notifyIfIdle(): void {
    if (this.pending !== 0) return;
    for (const fn of this.idleWaiters.splice(0)) fn();
  }
}

// One model version as it is served: its signature, its scheduler and instances, its state.
import { SibylError, type Tensor } from '@sibyl/protocol';
import type { Clock } from '../core/clock.ts';
import type { Instance } from '../runtimes/runtime.ts';
import type { InstancePool } from '../scheduling/instance-pool.ts';
import type { ScheduledRequest, Scheduler, SubmitOptions } from '../scheduling/scheduler.ts';
import type { VersionStatistics } from '../scheduling/statistics.ts';
import type { ModelState } from './model-state.ts';
import type { ServedSignature } from './signature.ts';

export class ServedVersion {
  state: ModelState = 'READY';
  reason = '';

  constructor(
    readonly name: string,
    readonly version: number,
    readonly platform: string,
    readonly signature: ServedSignature,
    private readonly scheduler: Scheduler,
    private readonly pool: InstancePool,
  ) {}

  get ready(): boolean {
    return this.state === 'READY';
  }

  get instanceCount(): number {
    return this.pool.size;
  }

  /** The live instances, for observation (tests, metrics); the pool keeps ownership. */
  instances(): readonly Instance[] {
    return this.pool.instances();
  }

  /** Queues one request on this version. See Scheduler.submit for ownership and errors. */
  execute(request: ScheduledRequest, options?: SubmitOptions): Promise<Tensor[]> {
    return this.scheduler.submit(request, options);
  }

  /** Cumulative statistics of this version (Triton's statistics extension). */
  get statistics(): VersionStatistics {
    return this.scheduler.statistics;
  }

  /** Requests waiting in this version's queue. */
  get queueDepth(): number {
    return this.scheduler.queueDepth;
  }

  /**
   * Stops admission and waits for queued and running requests, up to `drainTimeoutMs`; then
   * cancels what is still queued, lets the executions in progress finish (a run cannot be
   * interrupted safely) and frees the instances.
   */
  async unload(drainTimeoutMs: number, clock: Clock): Promise<void> {
    this.state = 'UNLOADING';
    this.reason = 'unloading';
    this.scheduler.stop();
    let cancel: (() => void) | undefined;
    await Promise.race([this.scheduler.whenIdle(), new Promise<void>((resolve) => (cancel = clock.setTimeout(resolve, drainTimeoutMs)))]);
    cancel?.();
    this.scheduler.cancelQueued(new SibylError('MODEL_NOT_READY', `model '${this.name}' version ${this.version} unloaded before this request could run`));
    await this.pool.close();
    this.state = 'UNAVAILABLE';
    this.reason = 'unloaded';
  }
}

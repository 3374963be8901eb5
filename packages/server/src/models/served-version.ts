// One generation of a model version as it is served: its signature, its scheduler and instances.
// The version's lifecycle state lives in the model manager's record; a served version only knows
// whether it still admits requests (a version reloaded with new files is a new generation, and
// the old one drains beside it).
import { SibylError, type Tensor } from '@sibyl/protocol';
import type { Clock } from '../core/clock.ts';
import type { ModelConfig } from '../config/model-config.ts';
import type { Instance } from '../runtimes/runtime.ts';
import type { InstancePool } from '../scheduling/instance-pool.ts';
import type { ScheduledRequest, Scheduler, SubmitOptions } from '../scheduling/scheduler.ts';
import type { VersionStatistics } from '../scheduling/statistics.ts';
import type { ServedSignature } from './signature.ts';

export class ServedVersion {
  private draining = false;

  constructor(
    readonly name: string,
    readonly version: number,
    readonly platform: string,
    readonly signature: ServedSignature,
    private readonly scheduler: Scheduler,
    private readonly pool: InstancePool,
    /**
     * Set when the model opts in to the response cache: `generation` identifies the files and
     * config this generation was loaded from (a hash of their contents), so cached answers never
     * outlive them; `ttlMs` undefined is the server's default.
     */
    readonly cache?: { readonly generation: string; readonly ttlMs: number | undefined },
    /** The model's compiled config.yaml (observers read its predictionLog and drift sections). */
    readonly config?: ModelConfig,
  ) {}

  /** True until unload() begins. */
  get admitting(): boolean {
    return !this.draining;
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

  /** Requests queued or executing. */
  get pending(): number {
    return this.scheduler.pending;
  }

  /**
   * Stops admission and waits for queued and running requests, up to `drainTimeoutMs`; then
   * cancels what is still queued, lets the executions in progress finish (a run cannot be
   * interrupted safely) and frees the instances. Idempotent.
   */
  async unload(drainTimeoutMs: number, clock: Clock): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    this.scheduler.stop();
    let cancel: (() => void) | undefined;
    await Promise.race([this.scheduler.whenIdle(), new Promise<void>((resolve) => (cancel = clock.setTimeout(resolve, drainTimeoutMs)))]);
    cancel?.();
    this.scheduler.cancelQueued(new SibylError('MODEL_NOT_READY', `model '${this.name}' version ${this.version} unloaded before this request could run`));
    await this.pool.close();
  }
}

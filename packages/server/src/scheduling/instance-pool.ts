// The instances of one model version. Hands the least busy instance to the scheduler, takes it
// back after the execution, and replaces an instance that dies on its own (a crashed worker): the
// dead instance's execution fails with INSTANCE_CRASHED, the version stays available.
import type { Instance } from '../runtimes/runtime.ts';
import type { Clock } from '../core/clock.ts';

export interface InstancePoolOptions {
  /** Loads the instance in slot `index` (used for the initial instances and for replacements). */
  load: (index: number) => Promise<Instance>;
  clock: Clock;
  /**
   * Executions an instance may hold at once: 1 runs strictly one after another; 2 lets the next
   * batch wait in the instance's inbox while the current one computes, so the instance never
   * waits for the event loop between batches. The instance still runs them one at a time.
   * Default 1.
   */
  executionsPerInstance?: number;
  /** Told about crashes and replacements, for logs. */
  onEvent?: (event: { kind: 'crashed' | 'replaced' | 'replace-failed'; label: string; reason: string }) => void;
  /** Delay before retrying a failed replacement; doubles up to 30 s. */
  replaceRetryMs?: number;
}

export class InstancePool {
  /** Every live instance → executions handed to it and not yet released. */
  private readonly outstanding = new Map<Instance, number>();
  private readonly waiters: (() => void)[] = [];
  private readonly depth: number;
  private isClosed = false;

  private constructor(private readonly options: InstancePoolOptions) {
    this.depth = Math.max(1, options.executionsPerInstance ?? 1);
  }

  /** Loads `instances` (already loaded by the caller) into a pool. */
  static fromInstances(instances: readonly Instance[], options: InstancePoolOptions): InstancePool {
    const pool = new InstancePool(options);
    instances.forEach((instance, index) => pool.adopt(instance, index));
    return pool;
  }

  /** True once close() was called: no instance will take work again. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Instances currently alive (busy or not). */
  get size(): number {
    return this.outstanding.size;
  }

  /** The live instances, for observation; the pool keeps ownership. */
  instances(): readonly Instance[] {
    return [...this.outstanding.keys()];
  }

  /** Instances that can take another execution now. */
  get availableCount(): number {
    let n = 0;
    for (const [instance, count] of this.outstanding) if (instance.alive && count < this.depth) n++;
    return n;
  }

  /**
   * The live instance with the fewest executions, if it can take one more; it counts as holding
   * one more execution until release(). Undefined when every instance is full.
   */
  acquire(): Instance | undefined {
    let best: Instance | undefined;
    let bestCount = this.depth;
    for (const [instance, count] of this.outstanding) {
      if (instance.alive && count < bestCount) {
        best = instance;
        bestCount = count;
        if (count === 0) break;
      }
    }
    if (best !== undefined) this.outstanding.set(best, bestCount + 1);
    return best;
  }

  /** Ends one execution of an instance. An instance that died meanwhile is already gone. */
  release(instance: Instance): void {
    const count = this.outstanding.get(instance);
    if (this.isClosed || count === undefined) return;
    this.outstanding.set(instance, count - 1);
    if (instance.alive) this.notify();
  }

  /** Calls `fn` whenever an instance can take another execution (after release or replacement). */
  onAvailable(fn: () => void): void {
    this.waiters.push(fn);
  }

  /** Closes every instance; each finishes what it holds first (see Instance.close). Idempotent. */
  async close(): Promise<void> {
    this.isClosed = true;
    const instances = [...this.outstanding.keys()];
    await Promise.all(instances.map((i) => i.close()));
    this.outstanding.clear();
  }

  private adopt(instance: Instance, index: number): void {
    this.outstanding.set(instance, 0);
    void instance.exited.then((exit) => {
      this.outstanding.delete(instance);
      if (exit.expected || this.isClosed) return;
      this.options.onEvent?.({ kind: 'crashed', label: instance.label, reason: exit.reason });
      this.replace(index, this.options.replaceRetryMs ?? 500);
    });
    this.notify();
  }

  private replace(index: number, retryMs: number): void {
    if (this.isClosed) return;
    this.options.load(index).then(
      (instance) => {
        if (this.isClosed) {
          void instance.close();
          return;
        }
        this.options.onEvent?.({ kind: 'replaced', label: instance.label, reason: 'replacement loaded' });
        this.adopt(instance, index);
      },
      (err: unknown) => {
        this.options.onEvent?.({ kind: 'replace-failed', label: `#${index}`, reason: err instanceof Error ? err.message : String(err) });
        this.options.clock.setTimeout(() => this.replace(index, Math.min(retryMs * 2, 30_000)), retryMs);
      },
    );
  }

  private notify(): void {
    for (const fn of this.waiters) fn();
  }
}

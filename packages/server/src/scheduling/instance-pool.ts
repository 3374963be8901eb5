// The instances of one model version. Hands an idle instance to the scheduler, takes it back
// after the execution, and replaces an instance that dies on its own (a crashed worker): the
// dead instance's execution fails with INSTANCE_CRASHED, the version stays available.
import type { Instance } from '../runtimes/runtime.ts';
import type { Clock } from '../core/clock.ts';

export interface InstancePoolOptions {
  /** Loads the instance in slot `index` (used for the initial instances and for replacements). */
  load: (index: number) => Promise<Instance>;
  clock: Clock;
  /** Told about crashes and replacements, for logs. */
  onEvent?: (event: { kind: 'crashed' | 'replaced' | 'replace-failed'; label: string; reason: string }) => void;
  /** Delay before retrying a failed replacement; doubles up to 30 s. */
  replaceRetryMs?: number;
}

export class InstancePool {
  private readonly idle: Instance[] = [];
  private readonly all = new Set<Instance>();
  private readonly waiters: (() => void)[] = [];
  private closed = false;

  private constructor(private readonly options: InstancePoolOptions) {}

  /** Loads `instances` (already loaded by the caller) into a pool. */
  static fromInstances(instances: readonly Instance[], options: InstancePoolOptions): InstancePool {
    const pool = new InstancePool(options);
    instances.forEach((instance, index) => pool.adopt(instance, index));
    return pool;
  }

  /** Instances currently alive (idle or busy). */
  get size(): number {
    return this.all.size;
  }

  /** The live instances (idle or busy), for observation; the pool keeps ownership. */
  instances(): readonly Instance[] {
    return [...this.all];
  }

  get idleCount(): number {
    let n = 0;
    for (const instance of this.idle) if (instance.alive) n++;
    return n;
  }

  /** An idle instance, now busy until release(); undefined when all are busy. */
  acquire(): Instance | undefined {
    let instance = this.idle.pop();
    while (instance !== undefined && !instance.alive) instance = this.idle.pop();
    return instance;
  }

  /** Returns a busy instance. An instance that died meanwhile is not returned to the idle list. */
  release(instance: Instance): void {
    if (this.closed || !this.all.has(instance) || !instance.alive) return;
    this.idle.push(instance);
    this.notify();
  }

  /** Calls `fn` whenever an instance becomes idle (after release or replacement). */
  onIdle(fn: () => void): void {
    this.waiters.push(fn);
  }

  /** Closes every instance. Busy executions fail with INSTANCE_CRASHED. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.idle.length = 0;
    await Promise.all([...this.all].map((i) => i.close()));
    this.all.clear();
  }

  private adopt(instance: Instance, index: number): void {
    this.all.add(instance);
    this.idle.push(instance);
    void instance.exited.then((exit) => {
      this.all.delete(instance);
      const at = this.idle.indexOf(instance);
      if (at >= 0) this.idle.splice(at, 1);
      if (exit.expected || this.closed) return;
      this.options.onEvent?.({ kind: 'crashed', label: instance.label, reason: exit.reason });
      this.replace(index, this.options.replaceRetryMs ?? 500);
    });
    this.notify();
  }

  private replace(index: number, retryMs: number): void {
    if (this.closed) return;
    this.options.load(index).then(
      (instance) => {
        if (this.closed) {
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

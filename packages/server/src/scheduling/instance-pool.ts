// The instances of one model version. Hands the least busy instance to the scheduler, takes it
// back after the execution, and replaces an instance that dies on its own (a crashed worker): the
// dead instance's execution fails with INSTANCE_CRASHED, the version stays available.
// A watchdog (decideHung) also replaces an instance that holds executions and finishes none for
// longer than hangTimeoutMs (a model that never returns): the hung instance is taken out of
// rotation at once and closed — which lets its run finish, since an onnxruntime run cannot be
// interrupted without aborting the process — and a replacement is loaded in its slot.
import type { Instance } from '../runtimes/runtime.ts';
import type { InstanceEventKind } from './scheduler-observer.ts';
import type { CancelTimer, Clock } from '../core/clock.ts';
import { decideHung } from './hang-decision.ts';

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
  /** Told about crashes, hangs and replacements, for logs and metrics. */
  onEvent?: (event: { kind: InstanceEventKind; label: string; reason: string }) => void;
  /** Delay before retrying a failed replacement; doubles up to 30 s. */
  replaceRetryMs?: number;
  /**
   * Longest time (ms) an instance may hold executions without finishing one before it is taken
   * out of rotation and replaced (see decideHung). 0 or absent: no watchdog.
   */
  hangTimeoutMs?: number;
}

/** The pool's bookkeeping of one live instance. */
interface Slot {
  /** Executions handed to it and not yet released. */
  count: number;
  /** Clock time it became busy or last finished an execution (see InstanceProgress). */
  progressAtMs: number;
  /** Its slot number, which its replacement takes over. */
  index: number;
}

export class InstancePool {
  /** Every live instance in rotation → its bookkeeping. */
  private readonly outstanding = new Map<Instance, Slot>();
  /** Hung instances taken out of rotation, closing once their run returns. */
  private readonly retired = new Set<Instance>();
  private cancelWatchdog: CancelTimer | undefined;
  private watchdogAtMs = Number.POSITIVE_INFINITY;
  private readonly waiters: (() => void)[] = [];
  private readonly unavailableWaiters: ((reason: string) => void)[] = [];
  /** Why the last replacement failed; cleared when one loads. */
  private replaceFailure: string | undefined;
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
    for (const [instance, slot] of this.outstanding) if (instance.alive && slot.count < this.depth) n++;
    return n;
  }

  /**
   * The live instance with the fewest executions, if it can take one more; it counts as holding
   * one more execution until release(). Undefined when every instance is full.
   */
  acquire(): Instance | undefined {
    let best: Instance | undefined;
    let bestSlot: Slot | undefined;
    for (const [instance, slot] of this.outstanding) {
      if (instance.alive && slot.count < (bestSlot?.count ?? this.depth)) {
        best = instance;
        bestSlot = slot;
        if (slot.count === 0) break;
      }
    }
    if (bestSlot !== undefined) {
      if (bestSlot.count === 0) bestSlot.progressAtMs = this.options.clock.now();
      bestSlot.count++;
      this.watch(bestSlot.progressAtMs);
    }
    return best;
  }

  /**
   * Ends one execution of an instance. An instance that died meanwhile is already gone; a hung
   * one that finally answered is already replaced.
   */
  release(instance: Instance): void {
    const slot = this.outstanding.get(instance);
    if (this.isClosed || slot === undefined) return;
    slot.count--;
    slot.progressAtMs = this.options.clock.now();
    if (slot.count > 0) this.watch(slot.progressAtMs);
    if (instance.alive) this.notify();
  }

  /**
   * One execution of an instance ended while the scheduler keeps it acquired (it runs a failed
   * batch's requests again there, see Scheduler.isolate): progress for the watchdog, as release().
   */
  progressed(instance: Instance): void {
    const slot = this.outstanding.get(instance);
    if (this.isClosed || slot === undefined) return;
    slot.progressAtMs = this.options.clock.now();
    this.watch(slot.progressAtMs);
  }

  /** Calls `fn` whenever an instance can take another execution (after release or replacement). */
  onAvailable(fn: () => void): void {
    this.waiters.push(fn);
  }

  /**
   * Why the version cannot run anything now: no instance is in rotation and loading a replacement
   * failed (its model file deleted, say; retried with backoff). Undefined while any instance
   * runs or a replacement is still loading for the first time.
   */
  get unavailableReason(): string | undefined {
    return this.outstanding.size === 0 && this.replaceFailure !== undefined ? `loading a replacement instance failed (${this.replaceFailure}); it is retried with backoff` : undefined;
  }

  /** Calls `fn` when the pool becomes unavailable (see unavailableReason), with the reason. */
  onUnavailable(fn: (reason: string) => void): void {
    this.unavailableWaiters.push(fn);
  }

  /** Closes every instance; each finishes what it holds first (see Instance.close). Idempotent. */
  async close(): Promise<void> {
    this.isClosed = true;
    this.cancelWatchdog?.();
    this.cancelWatchdog = undefined;
    const instances = [...this.outstanding.keys(), ...this.retired];
    await Promise.all(instances.map((i) => i.close()));
    this.outstanding.clear();
    this.retired.clear();
  }

  private adopt(instance: Instance, index: number): void {
    this.outstanding.set(instance, { count: 0, progressAtMs: this.options.clock.now(), index });
    void instance.exited.then((exit) => {
      this.outstanding.delete(instance);
      // A retired (hung) instance was replaced when it was retired.
      if (this.retired.delete(instance) || exit.expected || this.isClosed) return;
      this.options.onEvent?.({ kind: 'crashed', label: instance.label, reason: exit.reason });
      this.replace(index, this.options.replaceRetryMs ?? 500);
    });
    this.notify();
  }

  /**
   * Makes sure the watchdog looks again by `dueFromMs + hangTimeoutMs`. A timer already armed
   * earlier serves (the hot path arms at most one timer per hangTimeoutMs); it is not cancelled
   * when the instances go idle — it fires, finds nothing busy and is not re-armed.
   */
  private watch(dueFromMs: number): void {
    const timeoutMs = this.options.hangTimeoutMs ?? 0;
    if (timeoutMs <= 0 || this.isClosed) return;
    this.armWatchdog(dueFromMs + timeoutMs);
  }

  private armWatchdog(atMs: number): void {
    if (atMs >= this.watchdogAtMs) return;
    this.cancelWatchdog?.();
    this.watchdogAtMs = atMs;
    const { clock } = this.options;
    this.cancelWatchdog = clock.setTimeout(() => this.onWatchdog(), atMs - clock.now());
  }

  private onWatchdog(): void {
    this.cancelWatchdog = undefined;
    this.watchdogAtMs = Number.POSITIVE_INFINITY;
    if (this.isClosed) return;
    const now = this.options.clock.now();
    const timeoutMs = this.options.hangTimeoutMs ?? 0;
    const live = [...this.outstanding];
    const decision = decideHung(
      live.map(([, slot]) => ({ outstanding: slot.count, progressAtMs: slot.progressAtMs })),
      now,
      timeoutMs,
    );
    for (const at of decision.hung) {
      const [instance, slot] = live[at]!;
      this.retire(instance, slot, now - slot.progressAtMs, timeoutMs);
    }
    if (decision.nextCheckAtMs !== Number.POSITIVE_INFINITY) this.armWatchdog(decision.nextCheckAtMs);
  }

  /**
   * Takes a hung instance out of rotation and loads its replacement. The instance is closed, not
   * killed: its executions still answer if its run ever returns (requests past their deadline
   * have been answered already by the scheduler), then it exits.
   */
  private retire(instance: Instance, slot: Slot, stuckMs: number, timeoutMs: number): void {
    this.outstanding.delete(instance);
    this.retired.add(instance);
    this.options.onEvent?.({
      kind: 'hung',
      label: instance.label,
      reason: `it has held ${slot.count} execution(s) for ${Math.round(stuckMs)} ms without finishing one (instanceHangTimeoutMs is ${timeoutMs}); taken out of rotation, it closes once its run returns, and a replacement is loading`,
    });
    void instance.close();
    this.replace(slot.index, this.options.replaceRetryMs ?? 500);
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
        this.replaceFailure = undefined;
        this.adopt(instance, index);
      },
      (err: unknown) => {
        const reason = err instanceof Error ? err.message : String(err);
        this.options.onEvent?.({ kind: 'replace-failed', label: `#${index}`, reason });
        this.replaceFailure = reason;
        const unavailable = this.unavailableReason;
        if (unavailable !== undefined) for (const fn of this.unavailableWaiters) fn(unavailable);
        this.options.clock.setTimeout(() => this.replace(index, Math.min(retryMs * 2, 30_000)), retryMs);
      },
    );
  }

  private notify(): void {
    for (const fn of this.waiters) fn();
  }
}

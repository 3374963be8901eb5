// What the manager knows of one version of a model: its lifecycle (one VersionLife value, changed
// only through the reducer in version-state.ts), the facts kept across loads (signature, load
// time, memory, last use), whether a request waits for it, and its public status record (one
// object, updated in place, so every view of it agrees).
import type { VersionStatus } from './model-state.ts';
import type { ServedVersion } from './served-version.ts';
import type { SignatureShape } from './signature-compatibility.ts';
import { apply, INITIAL_LIFE, isLoading, servedOf, type VersionEvent, type VersionLife } from './version-state.ts';

export class VersionRecord {
  readonly status: VersionStatus;
  private current: VersionLife = INITIAL_LIFE;
  private demand: { waiting: boolean; error: string | undefined } = { waiting: false, error: undefined };
  /** Clock time (ms) of the last request routed to it (least recently used goes first). */
  lastUsedMs = 0;
  /** Memory it is counted for while resident. */
  bytes = 0;
  /** The signature of its last successful load (kept when it is evicted or unloaded). */
  signature: SignatureShape | undefined;
  /**
   * Why its signature keeps it from the model's default traffic (`signature incompatible with
   * version 2: input 'x' datatype FP32 → INT64`), or undefined (compatible, accepted, or unknown).
   */
  incompatibility: string | undefined;
  /** Duration of the last successful load. */
  loadMs: number | undefined;
  private waiters: (() => void)[] = [];

  constructor(readonly version: number) {
    this.status = { version, state: 'UNAVAILABLE', reason: 'not loaded' };
  }

  /** Its lifecycle now. */
  get life(): VersionLife {
    return this.current;
  }

  /** Moves the lifecycle on by one event; returns false when the event did not apply (see apply). */
  apply(event: VersionEvent): boolean {
    const next = apply(this.current, event);
    if (next === this.current) return false;
    this.current = next;
    return true;
  }

  /** A request (or a label) waits for it: it loads even when dormant, evicting others. */
  get demanded(): boolean {
    return this.demand.waiting;
  }

  /** Why the last demanded load could not start (the residency limits cannot make room). */
  get demandError(): string | undefined {
    return this.demand.error;
  }

  /** A request (or a label) asks for it to be loaded and waits. */
  askFor(): void {
    this.demand = { waiting: true, error: undefined };
  }

  /**
   * What was asked for is answered (loaded, failed, or no longer going to load); `refused` is why
   * a load asked for could not start (kept for the waiter to read).
   */
  answer(refused?: string): void {
    this.demand = { waiting: false, error: this.demand.waiting ? refused : undefined };
  }

  /** The generation requests go to; undefined when not loaded. */
  get served(): ServedVersion | undefined {
    return servedOf(this.current);
  }

  /** A load (or reload) is under way. */
  get loading(): boolean {
    return isLoading(this.current);
  }

  /** Generations still draining. */
  get drains(): number {
    return this.current.draining;
  }

  /** Updates the status record in place. */
  setStatus(next: Omit<VersionStatus, 'version'>): void {
    this.status.state = next.state;
    this.status.reason = next.reason;
    if (this.loadMs !== undefined) this.status.loadMs = this.loadMs;
    if (next.loadsOnDemand === true) this.status.loadsOnDemand = true;
    else delete this.status.loadsOnDemand;
    if (next.incompatibleSignature !== undefined) this.status.incompatibleSignature = next.incompatibleSignature;
    else delete this.status.incompatibleSignature;
  }

  /** Resolves at the next change of load or drain outcome (see notify). */
  settled(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** A load ended (either way), could not start, or a drain ended. */
  notify(): void {
    for (const fn of this.waiters.splice(0)) fn();
  }
}

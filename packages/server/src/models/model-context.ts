// What a managed model needs from its manager (residency, load slots, background work,
// persistence hooks), and the answers it gets. Separate so that the model, its loads and the
// manager depend on it rather than on each other.
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import type { ModelStore } from '../repository/model-store.ts';
import type { Runtime } from '../runtimes/runtime.ts';
import type { SchedulerObserver } from '../scheduling/scheduler-observer.ts';

export type ModelControlMode = 'none' | 'poll' | 'explicit';

/**
 * Whether a load may start now (residency). When not: `never` (it cannot fit at all: it fails
 * until its files or config change), `on-demand` (no room now: it loads when a request asks), or
 * `busy` (a request asks, but nothing can be evicted now).
 */
export type Admission = { ok: true } | { ok: false; reason: string; retry: 'never' | 'on-demand' | 'busy' };

/** What a managed model needs from the manager. */
export interface ModelContext {
  /** Where the model's versions and config are read from. */
  store: ModelStore;
  runtime: Runtime;
  clock: Clock;
  cpuCount: number;
  log: Logger;
  controlMode: ModelControlMode;
  drainTimeoutMs: number;
  /** The observer of a version's scheduler (metrics, tracing), asked once per loaded version. */
  observeScheduler?: (model: string, version: number) => SchedulerObserver | undefined;
  /**
   * Residency: whether a version of `bytes` may load now. Synchronous, called right before the
   * load; `demanded` loads (a request waits) may evict others, `swap` loads (the model has a
   * READY version) may exceed the limit while the old version drains, `background` loads wait
   * for room.
   */
  admit(model: string, version: number, bytes: number, mode: 'demanded' | 'swap' | 'background'): Admission;
  /** Runs a load under the server's load concurrency. */
  withLoadSlot<T>(fn: () => Promise<T>): Promise<T>;
  /** Background work (drains) that close() must wait for. */
  track(work: Promise<unknown>): void;
  /**
   * Told when a version became READY while desired and able to take the default traffic (the
   * last known good, persisted).
   */
  onReady(model: string, version: number): void;
  /** Told when the signature the default traffic is served with changed (persisted). */
  onSignatureReference(model: string): void;
}

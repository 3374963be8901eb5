// Owns the served models: lists the model store (once, or on every poll), keeps one ManagedModel
// per model, decides residency (which versions stay loaded under the limits), routes each request
// to a version (by number, label or the default route, loading on demand), and persists what must
// survive a restart (labels, explicit loads, last known good versions) in the state store. One
// broken model never affects the others. The model map is private: callers use the narrow API
// (has, names, find, status, list, resolve, acquire, readiness, selectedVersion, pin, index,
// servedVersions) and `control` for changes.
import { SibylError, type RepositoryIndexEntry } from '@sibyl/protocol';
import type { Logger } from 'pino';
import type { Clock, CancelTimer } from '../core/clock.ts';
import type { MachineInfo } from '../core/machine.ts';
import { Semaphore } from '../core/semaphore.ts';
import type { Cancellation } from '../core/cancellation.ts';
import type { Runtime } from '../runtimes/runtime.ts';
import type { ModelEntry, ModelStore } from '../repository/model-store.ts';
import type { StateStore } from '../state/state-store.ts';
import { bounded, stopWaiting, type WaitLimit } from './bounded-wait.ts';
import type { EffectiveLabel } from './labels.ts';
import { ManagedModel, type VersionSelector } from './managed-model.ts';
import type { Admission, ModelContext, ModelControlMode } from './model-context.ts';
import { ModelControl } from './model-control.ts';
import { applyPersistedState, modelRecord, readPersistedState, wantedAtStart, type PersistedState } from './persisted-state.ts';
import { STATE } from './state-namespaces.ts';
import type { SchedulerObserver } from '../scheduling/scheduler-observer.ts';
import type { VersionStatus } from './model-state.ts';
import { chooseEvictions, fitsBeside, type ResidencyLimits } from './residency.ts';
import type { ServedVersion } from './served-version.ts';
import type { VersionRecord } from './version-record.ts';

export type { ModelControlMode } from './model-context.ts';
export type { VersionSelector } from './version-selection.ts';
export type { PersistedState } from './persisted-state.ts';

/** How long control calls, on-demand loads without a deadline and whenSettled wait by default. */
export const DEFAULT_WAIT_TIMEOUT_MS = 600_000;

export interface ModelManagerOptions {
  /** Where the models are read from (FilesystemModelStore on the model repository folder). */
  repository: ModelStore;
  runtime: Runtime;
  clock: Clock;
  machine: MachineInfo;
  log: Logger;
  store: StateStore;
  controlMode: ModelControlMode;
  /** poll mode: time between repository scans. */
  pollIntervalMs: number;
  /** explicit mode: models to load at start-up ('*': all) unless the state store says otherwise. */
  startupModels: readonly string[];
  limits: ResidencyLimits;
  /** Loads running at once. */
  loadConcurrency: number;
  /** How long an unloaded or replaced version may take to finish its requests. */
  drainTimeoutMs: number;
  /** The observer of a version's scheduler (metrics, tracing), asked once per loaded version. */
  observeScheduler?: (model: string, version: number) => SchedulerObserver | undefined;
  /** How long model control calls (load, unload, label moves) wait when the caller gives no deadline; default 10 minutes. */
  waitTimeoutMs?: number;
}

/** What the manager knows of one model. */
export interface ModelStatus {
  name: string;
  /** Every version known, ascending, with state and reason. */
  versions: VersionStatus[];
  /** Versions in the repository now, ascending. */
  present: number[];
  /** A problem of the model as a whole (no version folders, a config error), else ''. */
  problem: string;
  /** What is wrong but does not stop the model serving (a label at a missing version, …). */
  warnings: string[];
  labels: ReadonlyMap<string, EffectiveLabel>;
  /** Whether the server wants it loaded (explicit mode: loaded through the API or at start-up). */
  wanted: boolean;
  /** The version requests without a version or label go to, when it is READY. */
  served: ServedVersion | undefined;
  /** That version's number, READY or loading on demand. */
  defaultVersion: number | undefined;
}


export class ModelManager {
  private readonly models = new Map<string, ManagedModel>();
  readonly control: ModelControl;
  private readonly context: ModelContext;
  private readonly loadSlots: Semaphore;
  private readonly background = new Set<Promise<unknown>>();
  /** Versions each endpoint keeps loaded (see pin). */
  private readonly pins = new Map<string, readonly { model: string; version: number }[]>();
  private starting: Promise<void> | undefined;
  private stopPolling: CancelTimer | undefined;
  private closed = false;
  /** True once the initial load has finished (whatever its outcome per model). */
  loaded = false;

  constructor(private readonly options: ModelManagerOptions) {
    this.loadSlots = new Semaphore(options.loadConcurrency);
    this.context = {
      store: options.repository,
      runtime: options.runtime,
      clock: options.clock,
      cpuCount: options.machine.cpuCount,
      log: options.log,
      controlMode: options.controlMode,
      drainTimeoutMs: options.drainTimeoutMs,
      observeScheduler: options.observeScheduler,
      admit: (model, version, bytes, mode) => this.admit(model, version, bytes, mode),
      withLoadSlot: (fn) => this.loadSlots.run(fn),
      track: (work) => {
        this.background.add(work);
        void work.finally(() => this.background.delete(work)).catch(() => undefined);
      },
      onReady: (name, version) => {
        const model = this.models.get(name);
        if (model === undefined || model.lastKnownGood === version) return;
        model.lastKnownGood = version;
        void this.persist(STATE.models, model.name, modelRecord(model));
      },
      onSignatureReference: (name) => {
        const model = this.models.get(name);
        if (model !== undefined) void this.persist(STATE.models, model.name, modelRecord(model));
      },
    };
    this.control = new ModelControl({
      controlMode: options.controlMode,
      modelStore: options.repository,
      stateStore: options.store,
      clock: options.clock,
      waitTimeoutMs: options.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS,
      model: (name) => this.model(name),
      find: (name) => this.models.get(name),
      all: () => [...this.models.values()],
      adopt: async (entry) => this.adopt(this.create(entry, await readPersistedState(options.store))),
      serving: (name) => this.status(name).served,
      persist: (namespace, key, value) => this.persist(namespace, key, value),
    });
  }

  /** A managed model for a listed entry, with what the state store says of it. */
  private create(entry: ModelEntry, state: PersistedState): ManagedModel {
    const { controlMode, startupModels } = this.options;
    const context = { ...this.context, log: this.options.log.child({ model: entry.name }) };
    const model = new ManagedModel(entry, context, { wanted: wantedAtStart(entry.name, state, controlMode, startupModels) });
    applyPersistedState(model, state, controlMode);
    return model;
  }

  /** Restores the state store's state, scans the repository and loads what is wanted. Call once. */
  start(): Promise<void> {
    this.starting ??= this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const entries = await this.options.repository.list();
    const state = await readPersistedState(this.options.store);
    for (const entry of entries) this.adopt(this.create(entry, state));
    for (const name of this.options.startupModels) {
      if (name !== '*' && !this.models.has(name)) this.options.log.warn(`--load-model ${name}: no model '${name}' in ${this.options.repository.location}`);
    }
    await Promise.all([...this.models.values()].map(async (m) => {
      await m.applyEntry(entries.find((e) => e.name === m.name)!);
      await m.reconcile();
    }));
    this.loaded = true;
    if (this.options.controlMode === 'poll') this.schedulePoll();
  }

  private schedulePoll(): void {
    if (this.closed) return;
    this.stopPolling = this.options.clock.setTimeout(() => {
      this.poll()
        .catch((err: unknown) => this.options.log.error(`repository poll failed: ${(err as Error).message}; the loaded models keep serving`))
        .finally(() => this.schedulePoll());
    }, this.options.pollIntervalMs);
  }

  /**
   * Scans the repository once and takes in every change: new models and versions load, removed
   * ones unload, changed files and configs reload; reconciliation runs in the background.
   */
  async poll(): Promise<void> {
    const entries = await this.options.repository.list();
    const names = new Set(entries.map((e) => e.name));
    for (const entry of entries) {
      let model = this.models.get(entry.name);
      if (model === undefined) {
        model = this.adopt(this.create(entry, await readPersistedState(this.options.store)));
        this.options.log.info({ model: entry.name }, `model '${entry.name}' appeared in the repository`);
      }
      await model.applyEntry(entry);
      void this.reconcileModel(model);
    }
    for (const [name, model] of this.models) {
      if (names.has(name)) continue;
      await model.applyEntry(await this.options.repository.model(name));
      void this.reconcileModel(model);
    }
  }

  /** Reconciles a model; drops it from the manager once its folder is gone and it is unloaded. */
  private async reconcileModel(model: ManagedModel): Promise<void> {
    await model.reconcile();
    await model.whenDrained();
    if (model.present.length === 0 && model.idle && this.models.get(model.name) === model && !(await this.options.repository.model(model.name)).exists) {
      this.models.delete(model.name);
      this.options.log.info({ model: model.name }, `model '${model.name}' left the repository and is unloaded`);
    }
  }

  /**
   * Resolves once every model has converged and finished draining (for tests and tools).
   * @throws SibylError DEADLINE_EXCEEDED when the limit (default `waitTimeoutMs` from now) comes first.
   */
  async whenSettled(limit: WaitLimit = {}): Promise<void> {
    const { clock } = this.options;
    const work = Promise.all([...this.models.values()].map((m) => this.reconcileModel(m)));
    const until = { deadlineMs: limit.deadlineMs ?? clock.now() + (this.options.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS), signal: limit.signal };
    await bounded(clock, until, work, (waitedMs) => new SibylError('DEADLINE_EXCEEDED', `models were still loading or draining when the deadline passed after ${waitedMs} ms`));
  }

  /** Every known model, sorted by name. */
  list(): ModelStatus[] {
    return [...this.models.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map((m) => this.viewOf(m));
  }

  /** Whether the manager has a model of that name (in the repository, or still unloading). */
  has(name: string): boolean {
    return this.models.has(name);
  }

  /** The names of every model, sorted. */
  names(): string[] {
    return [...this.models.keys()].sort();
  }

  /** The status of a model, or undefined when there is none of that name. */
  find(name: string): ModelStatus | undefined {
    const model = this.models.get(name);
    return model === undefined ? undefined : this.viewOf(model);
  }

  /**
   * The version a selector addresses now (whatever its state), or undefined when it addresses
   * none. @throws SibylError as resolve, except MODEL_NOT_READY for a version that is not.
   */
  selectedVersion(name: string, selector: VersionSelector): number | undefined {
    return this.model(name).select(selector)?.version;
  }

  /** @throws SibylError MODEL_NOT_FOUND. */
  private model(name: string): ManagedModel {
    const model = this.models.get(name);
    // The message names no other model: a caller who may list them does so with the index.
    if (model === undefined) throw new SibylError('MODEL_NOT_FOUND', `model '${name}' is not in the repository; list its models with POST /v2/repository/index`);
    return model;
  }

  /** The status of a model. @throws SibylError MODEL_NOT_FOUND. */
  status(name: string): ModelStatus {
    return this.viewOf(this.model(name));
  }

  private viewOf(m: ManagedModel): ModelStatus {
    let route: VersionRecord | undefined;
    try {
      route = m.select({});
    } catch {
      route = undefined;
    }
    return {
      name: m.name,
      versions: m.statuses(),
      present: m.present,
      problem: m.problem,
      warnings: m.warnings,
      labels: m.labels(),
      wanted: m.wanted,
      served: route?.status.state === 'READY' ? route.served : undefined,
      defaultVersion: route !== undefined && (route.status.state === 'READY' || route.status.loadsOnDemand === true) ? route.version : undefined,
    };
  }

  /**
   * The READY version a request goes to. Never loads: a version that loads on demand is
   * MODEL_NOT_READY here (see acquire).
   * @throws SibylError MODEL_NOT_FOUND, INVALID_VERSION, VERSION_NOT_FOUND, LABEL_NOT_FOUND, or
   *   MODEL_NOT_READY carrying the version's state and reason.
   */
  resolve(name: string, selector: VersionSelector = {}): ServedVersion {
    const model = this.model(name);
    const record = model.select(selector);
    if (record?.served !== undefined && record.status.state === 'READY') {
      record.lastUsedMs = this.options.clock.now();
      return record.served;
    }
    throw this.notReady(model, record, selector);
  }

  /**
   * Like resolve, but a version that loads on demand (evicted, or beyond the residency limit) is
   * loaded first; the caller waits until `deadlineMs` (clock time) at most.
   * @throws as resolve, plus DEADLINE_EXCEEDED, REQUEST_CANCELLED and RESIDENCY_EXHAUSTED.
   */
  acquire(name: string, selector: VersionSelector, options: { deadlineMs?: number; signal?: Cancellation } = {}): ServedVersion | Promise<ServedVersion> {
    const model = this.model(name);
    const record = model.select(selector);
    if (record?.served !== undefined && record.status.state === 'READY') {
      record.lastUsedMs = this.options.clock.now();
      return record.served;
    }
    if (record === undefined || record.status.loadsOnDemand !== true) throw this.notReady(model, record, selector);
    return this.loadOnDemand(model, record, options);
  }

  private async loadOnDemand(model: ManagedModel, record: VersionRecord, options: { deadlineMs?: number; signal?: Cancellation }): Promise<ServedVersion> {
    const { clock } = this.options;
    // A request without a deadline waits as long as a control call would, never forever.
    const stop = stopWaiting(clock, { deadlineMs: options.deadlineMs ?? clock.now() + (this.options.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS), signal: options.signal });
    const started = clock.now();
    try {
      await model.demand(record, stop.ended.then(() => undefined));
    } finally {
      stop.dispose();
    }
    const why = stop.why;
    if (record.served !== undefined && record.status.state === 'READY') {
      record.lastUsedMs = clock.now();
      return record.served;
    }
    if (why === 'deadline') {
      throw new SibylError('DEADLINE_EXCEEDED', `model '${model.name}' version ${record.version} was loading on demand and the request's deadline passed after ${Math.round(clock.now() - started)} ms; the load goes on`);
    }
    if (why === 'cancelled') throw new SibylError('REQUEST_CANCELLED', 'the client went away while the model was loading on demand');
    if (record.demandError !== undefined) throw new SibylError('RESIDENCY_EXHAUSTED', `model '${model.name}' version ${record.version} cannot be loaded: ${record.demandError}`);
    throw this.notReady(model, record, {});
  }

  private notReady(model: ManagedModel, record: VersionRecord | undefined, selector: VersionSelector): SibylError {
    const addressed = selector.label !== undefined ? ` label '${selector.label}'` : record !== undefined && (selector.version ?? '') !== '' ? ` version ${record.version}` : '';
    const why = model.problem !== '' ? model.problem : record === undefined ? 'no versions' : `${record.status.state}: ${record.status.reason}`;
    return new SibylError('MODEL_NOT_READY', `model '${model.name}'${addressed} is not ready (${why})`, {
      details: { state: record?.status.state ?? 'UNAVAILABLE', reason: why },
    });
  }

  /** Whether a request for the selector would be served (READY, or loaded on demand), with why not. */
  readiness(name: string, selector: VersionSelector = {}): { ready: true } | { ready: false; error: SibylError } {
    const model = this.model(name);
    const record = model.select(selector);
    if (record !== undefined && (record.status.state === 'READY' || record.status.loadsOnDemand === true)) return { ready: true };
    return { ready: false, error: this.notReady(model, record, selector) };
  }

  /**
   * Keeps the versions an endpoint sends requests to loaded (each `{model, version}`), replacing
   * what `owner` pinned before; models not in the repository are ignored. Reconciles in the
   * background.
   */
  pin(owner: string, targets: readonly { model: string; version: number }[]): void {
    if (targets.length === 0) this.pins.delete(owner);
    else this.pins.set(owner, targets);
    for (const model of this.models.values()) {
      model.pin(owner, targets.filter((t) => t.model === model.name).map((t) => t.version));
      void this.reconcileModel(model);
    }
  }

  /** Takes a model that just appeared under management, with the versions endpoints pin of it. */
  private adopt(model: ManagedModel): ManagedModel {
    for (const [owner, targets] of this.pins) model.pin(owner, targets.filter((t) => t.model === model.name).map((t) => t.version));
    this.models.set(model.name, model);
    return model;
  }

  /** Every READY version of every model, by model name then version. */
  servedVersions(): ServedVersion[] {
    return this.list().flatMap((m) => m.versions.filter((v) => v.state === 'READY').map((v) => this.models.get(m.name)!.record(v.version)!.served!));
  }

  /** Triton's repository index: one row per version, plus a row for a model with no versions. */
  index(): RepositoryIndexEntry[] {
    return this.list().flatMap((m) =>
      m.versions.length === 0
        ? [{ name: m.name, state: 'UNAVAILABLE', reason: m.problem }]
        : m.versions.map((v) => ({ name: m.name, version: String(v.version), state: v.state, reason: v.reason })),
    );
  }

  /** Writes a state entry; a failed write is logged, never thrown into a request. */
  persist(namespace: string, key: string, value: unknown): Promise<void> {
    return this.options.store.put(namespace, key, value).catch((err: unknown) => {
      this.options.log.error(`state store write ${namespace}/${key} failed: ${(err as Error).message}`);
    });
  }

  // Residency.

  private residentVersions(): { model: ManagedModel; record: VersionRecord }[] {
    return [...this.models.values()].flatMap((model) => model.resident().map((record) => ({ model, record })));
  }

  private admit(name: string, version: number, bytes: number, mode: 'demanded' | 'swap' | 'background'): Admission {
    const { limits } = this.options;
    if (limits.maxLoadedVersions === 0 && limits.memoryBudgetBytes === 0) return { ok: true };
    if (limits.memoryBudgetBytes > 0 && bytes > limits.memoryBudgetBytes) {
      return { ok: false, retry: 'never', reason: `not loaded: it needs ${bytes} bytes, more than the whole memory budget of ${limits.memoryBudgetBytes} bytes (memoryBudgetBytes); raise the budget or set a smaller memoryBytes` };
    }
    const resident = this.residentVersions().filter((r) => !(r.model.name === name && r.record.version === version));
    const asResident = resident.map((r) => ({
      key: `${r.model.name}:${r.record.version}`,
      lastUsedMs: r.record.lastUsedMs,
      bytes: r.record.bytes,
      evictable: r.record.served !== undefined && !r.record.loading,
    }));
    if (fitsBeside(asResident, limits, bytes) || mode === 'swap') return { ok: true };
    const limitText = describeLimits(limits);
    if (mode === 'background') return { ok: false, retry: 'on-demand', reason: `not loaded yet: ${limitText} reached; loads on the first request` };
    const evict = chooseEvictions(asResident, limits, bytes);
    if (evict === undefined) return { ok: false, retry: 'busy', reason: `${limitText} leaves no room: every other loaded version is still loading` };
    for (const key of evict) {
      const victim = resident.find((r) => `${r.model.name}:${r.record.version}` === key)!;
      victim.model.evict(victim.record.version, `evicted: least recently used, to make room for ${name}:${version} (${limitText}); loads again on the next request`);
    }
    return { ok: true };
  }

  /** Unloads every model: stops polling, lets loads finish, drains (bounded), frees instances. */
  async close(drainTimeoutMs: number): Promise<void> {
    this.closed = true;
    this.stopPolling?.();
    await this.starting?.catch(() => undefined);
    await Promise.all([...this.models.values()].map((m) => m.close(drainTimeoutMs)));
    await Promise.all([...this.background].map((p) => p.catch(() => undefined)));
  }
}

function describeLimits(limits: ResidencyLimits): string {
  const parts = [];
  if (limits.maxLoadedVersions > 0) parts.push(`the limit of ${limits.maxLoadedVersions} loaded versions`);
  if (limits.memoryBudgetBytes > 0) parts.push(`the memory budget of ${limits.memoryBudgetBytes} bytes`);
  return parts.join(' and ');
}


// One model under management: the versions its repository folder holds, the config, the labels,
// and a reconcile loop that moves the loaded versions towards the desired ones one transition at
// a time (decided by nextTransition, performed here). Transitions of one model never overlap;
// drains run in the background so a slow client never holds up the next load.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { compileModelConfig, type ModelConfig } from '../config/model-config.ts';
import { readYamlFile } from '../config/yaml-file.ts';
import type { Clock } from '../core/clock.ts';
import type { Runtime } from '../runtimes/runtime.ts';
import type { ModelEntry } from '../repository/scan.ts';
import { describeVersionPolicy, missingSpecificVersions, selectVersions } from '../repository/version-policy.ts';
import { effectiveLabels, type EffectiveLabel, type LabelRecord } from './labels.ts';
import { desiredVersions, nextTransition, type Transition, type VersionPhase } from './lifecycle.ts';
import type { VersionStatus } from './model-state.ts';
import type { ServedVersion } from './served-version.ts';
import type { SchedulerObserver } from '../scheduling/scheduler-observer.ts';
import { loadVersion, threadsFor, VersionLoadError, type VersionLoadSpec } from './version-loader.ts';
import { VersionRecord } from './version-record.ts';
import { defaultRoute, selectVersion, type VersionSelector } from './version-selection.ts';
import { versionStatus } from './version-status.ts';

export type { VersionSelector } from './version-selection.ts';

export type ModelControlMode = 'none' | 'poll' | 'explicit';

/**
 * Whether a load may start now (residency). When not: `never` (it cannot fit at all: it fails
 * until its files or config change), `on-demand` (no room now: it loads when a request asks), or
 * `busy` (a request asks, but nothing can be evicted now).
 */
export type Admission = { ok: true } | { ok: false; reason: string; retry: 'never' | 'on-demand' | 'busy' };

/** What a managed model needs from the manager. */
export interface ModelContext {
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
  admit(model: ManagedModel, version: number, bytes: number, mode: 'demanded' | 'swap' | 'background'): Admission;
  /** Runs a load under the server's load concurrency. */
  withLoadSlot<T>(fn: () => Promise<T>): Promise<T>;
  /** Background work (drains) that close() must wait for. */
  track(work: Promise<unknown>): void;
  /** Told when a version became READY while desired (the last known good, persisted). */
  onReady(model: ManagedModel, version: number): void;
}


export class ManagedModel {
  readonly name: string;
  /** Wanted by the server: always in none/poll mode; in explicit mode once loaded through the API. */
  wanted: boolean;
  /** Config given with an explicit load, in place of config.yaml. */
  configOverride: unknown;
  lastKnownGood: number | undefined;
  /** Labels set through the API (persisted by the caller); change them with setApiLabels. */
  private readonly apiLabelMap = new Map<string, LabelRecord>();
  private entry: ModelEntry;
  private config: ModelConfig | undefined;
  private configFingerprint = '';
  private configProblem = '';
  private ignoredNotes = '';
  private readonly records = new Map<number, VersionRecord>();
  /** Versions a label is about to point at: desired until the label moves or the load fails. */
  private readonly pendingLabelTargets = new Set<number>();
  /** Versions endpoints send requests to, by endpoint: desired while an endpoint needs them. */
  private readonly pins = new Map<string, readonly number[]>();
  private running: Promise<void> | undefined;
  private dirty = false;
  private route: VersionRecord | null | undefined;
  private labelCache: Map<string, EffectiveLabel> | undefined;

  constructor(
    entry: ModelEntry,
    private readonly ctx: ModelContext,
    options: { wanted: boolean },
  ) {
    this.name = entry.name;
    this.entry = entry;
    this.wanted = options.wanted;
  }

  private get log(): Logger {
    return this.ctx.log;
  }

  /** The model folder. */
  get dir(): string {
    return this.entry.dir;
  }

  /** Versions the repository holds now, ascending. */
  get present(): number[] {
    return this.entry.versions.map((v) => v.version);
  }

  /** A problem of the model as a whole that keeps it from serving (config error, no versions), else ''. */
  get problem(): string {
    if (this.configProblem !== '' && this.config === undefined) return this.configProblem;
    if (this.entry.versions.length === 0) return `no version folders in ${this.entry.dir}: expected <model>/<version>/model.onnx with a positive integer version`;
    return this.configProblem;
  }

  /** Things wrong that do not stop the model serving: dangling labels, missing specific versions. */
  get warnings(): string[] {
    const out: string[] = this.entry.ignored.map((note) => `${this.entry.dir}: ${note}`);
    for (const [name, label] of this.labels()) {
      if (!this.present.includes(label.version) && this.records.get(label.version)?.served === undefined) {
        out.push(`label '${name}' points at version ${label.version}, which is not in the repository`);
      }
    }
    if (this.config !== undefined) {
      for (const v of missingSpecificVersions(this.config.versionPolicy, this.present)) out.push(`versionPolicy names version ${v}, which is not in the repository`);
    }
    return out;
  }

  /** Why the model, or a version it wants, cannot serve: for the answer to an explicit load. */
  failures(): string[] {
    if (this.config === undefined || this.entry.versions.length === 0) return [this.problem];
    const desired = this.desired();
    return [...this.records.values()]
      .filter((r) => desired.has(r.version) && this.phaseOf(r) === 'FAILED')
      .map((r) => `version ${r.version}: ${r.failure ?? 'load failed'}`);
  }

  get apiLabels(): ReadonlyMap<string, LabelRecord> {
    return this.apiLabelMap;
  }

  /** Sets (a record) or removes (undefined) labels set through the API; routes change at once. */
  setApiLabels(changes: Iterable<[string, LabelRecord | undefined]>, options: { replaceAll?: boolean } = {}): void {
    if (options.replaceAll === true) this.apiLabelMap.clear();
    for (const [name, record] of changes) {
      if (record === undefined) this.apiLabelMap.delete(name);
      else this.apiLabelMap.set(name, { version: record.version, history: [...record.history] });
    }
    this.changed();
  }

  /** Every label in effect (the config's, overridden by the API's). Cached until the model changes. */
  labels(): ReadonlyMap<string, EffectiveLabel> {
    this.labelCache ??= effectiveLabels(this.config?.labels ?? {}, this.apiLabelMap);
    return this.labelCache;
  }

  /** Every version known (in the repository or still loaded), ascending. */
  statuses(): VersionStatus[] {
    return [...this.records.values()].sort((a, b) => a.version - b.version).map((r) => r.status);
  }

  record(version: number): VersionRecord | undefined {
    return this.records.get(version);
  }

  /** Versions loaded or loading, for residency accounting. */
  resident(): VersionRecord[] {
    return [...this.records.values()].filter((r) => r.served !== undefined || r.loading);
  }

  /** True when nothing of the model is loaded, loading or draining. */
  get idle(): boolean {
    return [...this.records.values()].every((r) => r.served === undefined && !r.loading && r.drains === 0);
  }

  /**
   * Takes in a new scan of the model's folder: new and removed versions, changed files and
   * config. A config that does not compile is reported and the one in use is kept.
   */
  async applyEntry(entry: ModelEntry): Promise<void> {
    this.entry = entry;
    const notes = entry.ignored.join('\n');
    if (notes !== this.ignoredNotes) for (const note of entry.ignored) this.log.warn(`${entry.dir}: ${note}`);
    this.ignoredNotes = notes;
    await this.refreshConfig();
    for (const v of entry.versions) if (!this.records.has(v.version)) this.records.set(v.version, new VersionRecord(v.version));
    for (const [version, record] of this.records) {
      if (!this.present.includes(version) && record.served === undefined && !record.loading && record.drains === 0) this.records.delete(version);
    }
    this.changed();
  }

  private async refreshConfig(): Promise<void> {
    const override = this.configOverride;
    const source = override !== undefined ? `load request for '${this.name}' (parameters.config)` : (this.entry.configPath ?? `${this.entry.dir}/config.yaml`);
    const fingerprint = override !== undefined ? `override:${createHash('sha256').update(JSON.stringify(override)).digest('hex')}` : `file:${this.entry.configFingerprint}`;
    if (fingerprint === this.configFingerprint && this.config !== undefined) return;
    try {
      const document = override !== undefined ? override : this.entry.configPath === undefined ? undefined : await readYamlFile(this.entry.configPath);
      this.config = compileModelConfig(document, source, this.entry.dir);
      this.configFingerprint = fingerprint;
      this.configProblem = '';
    } catch (err) {
      const problem = `config error: ${(err as Error).message}`;
      if (problem !== this.configProblem) this.log.error(this.config === undefined ? problem : `${problem} (the previous config stays in use)`);
      this.configProblem = problem;
    }
  }

  /** The fingerprint a version loaded now would have: its model file and the config in use. */
  private fingerprintOf(version: number): string | undefined {
    const v = this.entry.versions.find((e) => e.version === version);
    return v === undefined ? undefined : `${v.fingerprint}|${this.configFingerprint}`;
  }

  private desired(): Set<number> {
    if (this.config === undefined) return new Set();
    const labelTargets = [...[...this.labels().values()].map((l) => l.version), ...this.pendingLabelTargets, ...[...this.pins.values()].flat()];
    const rollbackTargets = [...this.apiLabelMap.values()].flatMap((l) => l.history.slice(-1));
    return desiredVersions({ wanted: this.wanted, policy: this.config.versionPolicy, present: this.present, labelTargets, rollbackTargets });
  }

  /** Why the versions loaded are those, in words: `the version policy (latest: 1) selects 3; labels point at 1`. */
  private desiredText(desired: Set<number>): string {
    const policy = this.config === undefined ? undefined : selectVersions(this.config.versionPolicy, this.present);
    const byLabel = [...desired].filter((v) => !policy?.includes(v)).sort((a, b) => a - b);
    const policyText = this.config === undefined ? '' : `the version policy (${describeVersionPolicy(this.config.versionPolicy)}) selects ${policy!.join(', ') || 'no version'}`;
    return byLabel.length === 0 ? policyText : `${policyText}; labels keep ${byLabel.join(', ')}`;
  }

  private phaseOf(r: VersionRecord): VersionPhase {
    // A READY version reloading with changed files keeps serving its earlier load meanwhile.
    if (r.served !== undefined) return 'READY';
    if (r.loading) return 'LOADING';
    if (r.drains > 0) return 'UNLOADING';
    const fingerprint = this.fingerprintOf(r.version);
    if (r.failedFingerprint !== undefined && r.failedFingerprint === fingerprint) return 'FAILED';
    return 'UNLOADED';
  }

  /** Marks the model changed: statuses and the default route are recomputed, waiters told. */
  private changed(): void {
    this.route = undefined;
    this.labelCache = undefined;
    const desired = this.desired();
    const sortedDesired = [...desired].sort((a, b) => a - b);
    const allFailed = desired.size > 0 && sortedDesired.every((v) => this.records.get(v) !== undefined && this.phaseOf(this.records.get(v)!) === 'FAILED');
    const selection = this.desiredText(desired);
    for (const r of this.records.values()) {
      const isDesired = desired.has(r.version);
      r.setStatus(
        versionStatus({
          model: this.name,
          phase: this.phaseOf(r),
          desired: isDesired,
          dormant: r.dormant,
          reloading: r.loading && r.served !== undefined,
          fallbackFor: !isDesired && allFailed ? sortedDesired : undefined,
          held: !isDesired && desired.size === 0 && this.wanted && this.entry.exists,
          note: r.note,
          failure: r.failure,
          reloadFailure: r.reloadFailure,
          configProblem: this.config === undefined ? this.problem : undefined,
          wanted: this.wanted,
          present: this.present.includes(r.version),
          selection,
        }),
      );
    }
  }

  /**
   * Runs transitions until the loaded versions are where they should be. Concurrent calls share
   * one loop; a call made while it runs makes it look again before it ends.
   */
  reconcile(): Promise<void> {
    this.dirty = true;
    this.running ??= this.loop().finally(() => (this.running = undefined));
    return this.running;
  }

  private async loop(): Promise<void> {
    while (this.dirty) {
      this.dirty = false;
      for (;;) {
        const snapshot = {
          versions: [...this.records.values()].map((r) => ({
            version: r.version,
            phase: this.phaseOf(r),
            desired: this.desired().has(r.version),
            dormant: r.dormant && !r.demanded,
            stale: r.served !== undefined && r.fingerprint !== this.fingerprintOf(r.version) && r.failedFingerprint !== this.fingerprintOf(r.version) && this.present.includes(r.version),
          })),
          lastKnownGood: this.lastKnownGood,
          present: this.present,
          holdWhenNothingDesired: this.wanted && this.entry.exists,
        };
        const transition = nextTransition(snapshot);
        if (transition === undefined) break;
        await this.perform(transition);
        this.changed();
      }
    }
    // A version asked for that reconciliation did not load (not desired, or failed) is no longer
    // waited for; every waiter looks again.
    for (const r of this.records.values()) {
      if (r.demanded && !r.loading && r.served === undefined && r.drains === 0) r.demanded = false;
      r.notify();
    }
  }

  private async perform(t: Transition): Promise<void> {
    let record = this.records.get(t.version);
    if (record === undefined) {
      record = new VersionRecord(t.version);
      this.records.set(t.version, record);
    }
    if (t.kind === 'unload') {
      const why = !this.wanted ? 'unloaded through the API' : !this.present.includes(t.version) ? 'its folder left the repository' : t.reason;
      return this.startUnload(record, `unloaded: ${why}`);
    }
    await this.load(record, t);
  }

  private async load(record: VersionRecord, t: Transition): Promise<void> {
    const entry = this.entry.versions.find((v) => v.version === record.version);
    const config = this.config!;
    const fingerprint = this.fingerprintOf(record.version);
    if (entry === undefined || fingerprint === undefined) return;
    if (entry.fingerprint === 'missing') {
      record.failure = `load failed: ${entry.artifactPath} is missing; a version folder holds its model as model.onnx`;
      record.failedFingerprint = fingerprint;
      record.demanded = false;
      this.log.error({ version: record.version }, `version ${record.version} is UNAVAILABLE: ${record.failure}`);
      record.notify();
      return;
    }
    // The size the scan read: no await between here and admit(), so versions starting to load
    // together are admitted in the order their loads began (a stat here let them race).
    const artifactBytes = entry.artifactBytes;
    const spec: VersionLoadSpec = {
      model: this.name,
      version: record.version,
      artifactPath: entry.artifactPath,
      artifactBytes,
      config,
      configSource: this.configOverride !== undefined ? `load request for '${this.name}' (parameters.config)` : (this.entry.configPath ?? `${this.entry.dir}/config.yaml`),
    };
    const bytes = config.memoryBytes ?? Math.max(1, artifactBytes) * config.instanceCount;
    const mode = record.demanded ? 'demanded' : this.resident().some((r) => r.served !== undefined) ? 'swap' : 'background';
    const admission = this.ctx.admit(this, record.version, bytes, mode);
    if (!admission.ok) {
      if (admission.retry === 'never') {
        record.failure = admission.reason;
        record.failedFingerprint = fingerprint;
        record.dormant = false;
      } else {
        record.dormant = true;
        record.note = admission.reason;
      }
      record.demandError = record.demanded && admission.retry === 'busy' ? admission.reason : undefined;
      record.demanded = false;
      record.notify();
      return;
    }
    record.loading = true;
    record.bytes = bytes;
    record.dormant = false;
    this.changed();
    const started = this.ctx.clock.now();
    let served: ServedVersion;
    try {
      served = await this.ctx.withLoadSlot(() => loadVersion(spec, this.ctx));
    } catch (err) {
      const reason = err instanceof VersionLoadError ? err.reason : `load failed: ${(err as Error).message}`;
      record.loading = false;
      record.demanded = false;
      record.failedFingerprint = fingerprint;
      if (t.kind === 'reload') {
        record.reloadFailure = `reload with changed files failed, the earlier load keeps serving: ${reason}`;
        this.log.error({ version: record.version }, `version ${record.version}: ${record.reloadFailure}`);
      } else {
        record.failure = reason;
        this.log.error({ version: record.version }, `version ${record.version} is UNAVAILABLE: ${reason}`);
      }
      record.notify();
      return;
    }
    const loadMs = Math.round(this.ctx.clock.now() - started);
    const previous = record.served;
    record.loading = false;
    record.demanded = false;
    record.served = served;
    record.fingerprint = fingerprint;
    record.failure = record.reloadFailure = record.failedFingerprint = record.demandError = undefined;
    record.loadMs = loadMs;
    record.lastUsedMs = this.ctx.clock.now();
    if (previous !== undefined) this.drain(record, previous);
    this.log.info(
      { version: record.version, loadMs, instances: config.instanceCount, threadsPerInstance: threadsFor(spec, this.ctx.cpuCount) },
      `version ${record.version} is READY${t.kind === 'reload' ? ' (reloaded with changed files)' : ''}`,
    );
    if (this.desired().has(record.version)) this.ctx.onReady(this, record.version);
    this.changed();
    record.notify();
  }

  /** Stops routing to a version and drains it in the background; `note` becomes its reason. */
  private startUnload(record: VersionRecord, note: string): void {
    const served = record.served;
    if (served === undefined) return;
    record.served = undefined;
    record.fingerprint = undefined;
    record.reloadFailure = undefined;
    record.note = note;
    this.log.info({ version: record.version }, `version ${record.version} ${note}; draining`);
    this.drain(record, served);
  }

  private drain(record: VersionRecord, served: ServedVersion): void {
    record.drains++;
    this.changed();
    const done = served.unload(this.ctx.drainTimeoutMs, this.ctx.clock).finally(() => {
      record.drains--;
      if (!this.present.includes(record.version) && record.served === undefined && !record.loading && record.drains === 0) this.records.delete(record.version);
      this.changed();
      record.notify();
      void this.reconcile();
    });
    this.ctx.track(done);
  }

  /** Unloads a version to make room for another (residency); it loads again when a request asks. */
  evict(version: number, reason: string): void {
    const record = this.records.get(version);
    if (record?.served === undefined) return;
    record.dormant = true;
    this.startUnload(record, reason);
  }

  /** The record a selector addresses. @throws SibylError (see selectVersion). */
  select(selector: VersionSelector): VersionRecord | undefined {
    const ctx = { model: this.name, records: this.records, labels: this.labels(), present: this.present };
    return selectVersion(ctx, selector, () => {
      // The default route is asked on every unaddressed request: cached until the model changes.
      if (this.route === undefined) this.route = defaultRoute(ctx) ?? null;
      return this.route ?? undefined;
    });
  }

  /**
   * Asks for a version to be loaded for a request (or a label) and waits until it is READY, its
   * load failed or could not start, or `until` resolves. The caller reads the outcome from the
   * record.
   */
  async demand(record: VersionRecord, until: Promise<void>): Promise<void> {
    if (record.served !== undefined) return;
    let gaveUp = false;
    void until.then(() => (gaveUp = true));
    record.demanded = true;
    record.demandError = undefined;
    void this.reconcile();
    while (record.served === undefined && !gaveUp) {
      if (record.demandError !== undefined || (!record.demanded && !record.loading && record.drains === 0)) return;
      await Promise.race([record.settled(), until]);
    }
  }

  /** Keeps `versions` loaded for `owner` (an endpoint), replacing what it pinned before; [] releases. */
  pin(owner: string, versions: readonly number[]): void {
    if (versions.length === 0) this.pins.delete(owner);
    else this.pins.set(owner, [...versions]);
    this.changed();
  }

  /** Desired as a label's next target until the label moves (or the load fails). */
  holdForLabel(version: number): () => void {
    this.pendingLabelTargets.add(version);
    this.changed();
    return () => {
      this.pendingLabelTargets.delete(version);
      this.changed();
    };
  }

  /** Call after labels, wanted or the override changed: recomputes and reconciles. */
  async update(): Promise<void> {
    await this.refreshConfig();
    this.changed();
    await this.reconcile();
  }

  /** Waits for every drain of this model to finish. */
  async whenDrained(): Promise<void> {
    for (;;) {
      const draining = [...this.records.values()].filter((r) => r.drains > 0);
      if (draining.length === 0) return;
      await Promise.race(draining.map((r) => r.settled()));
    }
  }

  /** Unloads every version (shutdown): no new loads start, drains are bounded by `drainTimeoutMs`. */
  async close(drainTimeoutMs: number): Promise<void> {
    this.wanted = false;
    await this.running?.catch(() => undefined);
    await Promise.all(
      [...this.records.values()].map(async (r) => {
        const served = r.served;
        if (served === undefined) return;
        r.served = undefined;
        r.note = 'unloaded: server shut down';
        r.drains++;
        this.changed();
        await served.unload(drainTimeoutMs, this.ctx.clock);
        r.drains--;
        this.changed();
      }),
    );
  }
}

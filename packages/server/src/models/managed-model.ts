// One model under management: its store entry and config (ModelSource), its labels, the record
// of each version (a state machine, version-state.ts), and a reconcile loop that moves the loaded
// versions towards the desired ones one transition at a time (decided by nextTransition,
// performed here and in version-load.ts). Transitions of one model never overlap; drains run in
// the background so a slow client never holds up the next load.
import type { ModelConfig } from '../config/model-config.ts';
import type { ModelEntry } from '../repository/model-store.ts';
import { describeVersionPolicy, selectVersions } from '../repository/version-policy.ts';
import { effectiveLabels, type EffectiveLabel, type LabelRecord } from './labels.ts';
import { desiredVersions, nextTransition, type ModelSnapshot, type Transition, type VersionPhase } from './lifecycle.ts';
import type { ModelContext } from './model-context.ts';
import { ModelSource } from './model-source.ts';
import type { VersionStatus } from './model-state.ts';
import { decideStatuses, type DecidedStatus } from './model-statuses.ts';
import type { ServedVersion } from './served-version.ts';
import { incompatibilityOf, nextSignatureReference, type SignatureReference } from './signature-compatibility.ts';
import { loadInto, type LoadHost } from './version-load.ts';
import { VersionRecord } from './version-record.ts';
import { defaultRoute, selectVersion, type VersionSelector } from './version-selection.ts';
import { isIdle, isResident, isStale, phaseOf } from './version-state.ts';

export type { VersionSelector } from './version-selection.ts';
export type { Admission, ModelContext, ModelControlMode } from './model-context.ts';

export class ManagedModel implements LoadHost {
  readonly name: string;
  /** Wanted by the server: always in none/poll mode; in explicit mode once loaded through the API. */
  wanted: boolean;
  lastKnownGood: number | undefined;
  /**
   * The signature the model's default traffic is served with: set by the first version that
   * serves it, then by each version that takes it over (a compatible one, one accepted in the
   * config, or one the stable label points at). Versions incompatible with it do not take the
   * default traffic. Persisted, so a restart keeps it.
   */
  signatureReference: SignatureReference | undefined;
  readonly source: ModelSource;
  /** Labels set through the API (persisted by the caller); change them with setApiLabels. */
  private readonly apiLabelMap = new Map<string, LabelRecord>();
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
    readonly ctx: ModelContext,
    options: { wanted: boolean },
  ) {
    this.name = entry.name;
    this.source = new ModelSource(entry, ctx.store, ctx.log);
    this.wanted = options.wanted;
  }

  /** Config given with an explicit load, in place of config.yaml. */
  get configOverride(): unknown {
    return this.source.configOverride;
  }

  set configOverride(config: unknown) {
    this.source.configOverride = config;
  }

  private get config(): ModelConfig | undefined {
    return this.source.config;
  }

  /** The model folder. */
  get dir(): string {
    return this.source.entry.dir;
  }

  /** Versions the repository holds now, ascending. */
  get present(): number[] {
    return this.source.present;
  }

  /** A problem of the model as a whole that keeps it from serving (config error, no versions), else ''. */
  get problem(): string {
    return this.source.problem;
  }

  /** Things wrong that do not stop the model serving: dangling labels, missing specific versions. */
  get warnings(): string[] {
    const labels: string[] = [];
    for (const [name, label] of this.labels()) {
      if (!this.present.includes(label.version) && this.records.get(label.version)?.served === undefined) {
        labels.push(`label '${name}' points at version ${label.version}, which is not in the repository`);
      }
    }
    return [...this.source.folderWarnings(), ...labels, ...this.source.policyWarnings()];
  }

  /**
   * Why the model, or a version it wants, cannot serve as its files and config are now: for the
   * answer to an explicit load. Counts a config that does not compile (the one in use stays), a
   * desired version whose load failed, and a READY version whose reload with the current files
   * and config failed (its earlier load serves on, but the load asked for did not happen).
   */
  failures(): string[] {
    if (this.config === undefined || this.source.entry.versions.length === 0) return [this.problem];
    const out: string[] = this.source.configError === '' ? [] : [`${this.source.configError} (the config in use stays)`];
    const desired = this.desired();
    for (const r of [...this.records.values()].sort((a, b) => a.version - b.version)) {
      if (!desired.has(r.version)) continue;
      const state = r.life.state;
      if (this.phaseOf(r) === 'FAILED' && state.kind === 'failed') out.push(`version ${r.version}: ${state.reason}`);
      else if (state.kind === 'ready' && state.reloadFailure !== undefined && state.reloadFailure.fingerprint === this.source.fingerprintOf(r.version)) {
        out.push(`version ${r.version}: ${state.reloadFailure.reason}`);
      }
    }
    return out;
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
    return [...this.records.values()].filter((r) => isResident(r.life));
  }

  /** True when nothing of the model is loaded, loading or draining. */
  get idle(): boolean {
    return [...this.records.values()].every((r) => isIdle(r.life));
  }

  /**
   * Takes in a new listing of the model: new and removed versions, changed files and config. A
   * config that does not compile is reported and the one in use is kept.
   */
  async applyEntry(entry: ModelEntry): Promise<void> {
    await this.source.apply(entry);
    for (const v of entry.versions) if (!this.records.has(v.version)) this.records.set(v.version, new VersionRecord(v.version));
    for (const [version, record] of this.records) this.forgetIfGone(version, record);
    this.changed();
  }

  /** Drops the record of a version whose folder left and of which nothing is loaded or draining. */
  private forgetIfGone(version: number, record: VersionRecord): void {
    if (!this.present.includes(version) && isIdle(record.life)) this.records.delete(version);
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
    return phaseOf(r.life, this.source.fingerprintOf(r.version));
  }

  /**
   * Marks the model changed: signatures are assessed, the statuses and the default route decided
   * (once: written to the records in one pass), waiters told.
   */
  changed(): void {
    this.labelCache = undefined;
    this.route = undefined;
    const desired = this.desired();
    this.assessSignatures();
    let decided = this.decide(desired);
    const route = decided.route === undefined ? undefined : this.records.get(decided.route);
    const reference = this.signatureReference;
    const next = nextSignatureReference(
      reference,
      route === undefined
        ? undefined
        : { version: route.version, serving: route.served !== undefined, signature: route.signature, incompatible: route.incompatibility !== undefined, byStable: this.labels().get('stable')?.version === route.version },
      reference !== undefined && !this.present.includes(reference.version) && this.records.get(reference.version)?.served === undefined,
    );
    if (next !== undefined) {
      this.signatureReference = next;
      this.ctx.onSignatureReference(this.name);
      this.assessSignatures();
      decided = this.decide(desired);
    }
    for (const r of this.records.values()) r.setStatus(decided.statuses.get(r.version)!);
  }

  private decide(desired: Set<number>): { statuses: Map<number, DecidedStatus>; route: number | undefined } {
    return decideStatuses({
      model: this.name,
      versions: [...this.records.values()].map((r) => {
        const state = r.life.state;
        return {
          version: r.version,
          phase: this.phaseOf(r),
          dormant: state.kind === 'unloaded' && state.dormant,
          reloading: state.kind === 'ready' && state.reloading,
          note: state.kind === 'ready' ? '' : state.note,
          failure: state.kind === 'failed' ? state.reason : undefined,
          reloadFailure: state.kind === 'ready' ? state.reloadFailure?.reason : undefined,
          incompatibility: r.incompatibility,
        };
      }),
      desired,
      selection: this.desiredText(desired),
      wanted: this.wanted,
      exists: this.source.entry.exists,
      present: this.present,
      configProblem: this.config === undefined ? this.problem : undefined,
      labels: this.labels(),
    });
  }

  /**
   * Sets each version's incompatibility with the signature reference; logs each new one. A
   * version accepted by the config (acceptSignature, or signatureChange: allow) has none.
   */
  private assessSignatures(): void {
    const reference = this.signatureReference;
    for (const r of this.records.values()) {
      const accepted = this.config !== undefined && (this.config.signatureChange === 'allow' || this.config.acceptSignature.includes(r.version));
      const why = incompatibilityOf(reference, r.version, r.signature, accepted);
      if (why !== undefined && why !== r.incompatibility) {
        this.ctx.log.warn(
          { version: r.version },
          `version ${r.version} is not routed by default: ${why}; requests that name it reach it; accept it with acceptSignature: [${r.version}] in config.yaml or by moving the stable label to it`,
        );
      }
      r.incompatibility = why;
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

  private snapshot(): ModelSnapshot {
    const desired = this.desired();
    return {
      versions: [...this.records.values()].map((r) => {
        const fingerprint = this.source.fingerprintOf(r.version);
        const state = r.life.state;
        return {
          version: r.version,
          phase: this.phaseOf(r),
          desired: desired.has(r.version),
          dormant: state.kind === 'unloaded' && state.dormant && !r.demanded,
          stale: isStale(r.life, fingerprint) && this.present.includes(r.version),
          routable: r.incompatibility === undefined,
        };
      }),
      signatureReference: this.signatureReference?.version,
      lastKnownGood: this.lastKnownGood,
      present: this.present,
      holdWhenNothingDesired: this.wanted && this.source.entry.exists,
    };
  }

  private async loop(): Promise<void> {
    while (this.dirty) {
      this.dirty = false;
      for (;;) {
        const transition = nextTransition(this.snapshot());
        if (transition === undefined) break;
        await this.perform(transition);
        this.changed();
      }
    }
    // A version asked for that reconciliation did not load (not desired, or failed) is no longer
    // waited for; every waiter looks again.
    for (const r of this.records.values()) {
      if (r.demanded && isIdle(r.life)) r.answer();
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
    await loadInto(this, record, t.kind);
  }

  serving(): boolean {
    return this.resident().some((r) => r.served !== undefined);
  }

  takesDefaultTraffic(version: number): boolean {
    return this.desired().has(version) && this.records.get(version)?.incompatibility === undefined;
  }

  /** Stops routing to a version and drains it in the background; `note` becomes its reason. */
  private startUnload(record: VersionRecord, note: string, dormant = false): void {
    const served = record.served;
    if (served === undefined || !record.apply({ type: 'unload', note, dormant })) return;
    this.ctx.log.info({ version: record.version }, `version ${record.version} ${note}; draining`);
    this.changed();
    this.drain(record, served);
  }

  /** Drains a generation the state machine released (it counts it as draining until this ends). */
  drain(record: VersionRecord, served: ServedVersion): void {
    const done = served.unload(this.ctx.drainTimeoutMs, this.ctx.clock).finally(() => {
      record.apply({ type: 'drain-ended' });
      this.forgetIfGone(record.version, record);
      this.changed();
      record.notify();
      void this.reconcile();
    });
    this.ctx.track(done);
  }

  /** Unloads a version to make room for another (residency); it loads again when a request asks. */
  evict(version: number, reason: string): void {
    const record = this.records.get(version);
    if (record !== undefined) this.startUnload(record, reason, true);
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
    record.askFor();
    void this.reconcile();
    while (record.served === undefined && !gaveUp) {
      if (record.demandError !== undefined || (!record.demanded && isIdle(record.life))) return;
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
    await this.source.refreshConfig();
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
        if (served === undefined || !r.apply({ type: 'unload', note: 'unloaded: server shut down' })) return;
        this.changed();
        await served.unload(drainTimeoutMs, this.ctx.clock);
        r.apply({ type: 'drain-ended' });
        this.changed();
      }),
    );
  }
}

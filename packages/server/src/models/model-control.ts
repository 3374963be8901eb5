// Model control through the API: explicit loads and unloads (Triton's repository extension),
// labels moved atomically, rollback, and the state store's snapshot and restore. Every change
// that must survive a restart is written to the state store before the call returns. Every wait
// is bounded (the caller's deadline or signal, else `waitTimeoutMs` from now): when it passes the
// call rejects with DEADLINE_EXCEEDED (an explicit load or unload goes on; a label is not moved).
// It works through a ControlHost (the model manager implements it), so it never imports the manager.
import { SibylError } from '@sibyl/protocol';
import { compileModelConfig, isLabelName, type ModelConfig } from '../config/model-config.ts';
import { compileModelPredictionLog } from '../config/prediction-log-config.ts';
import { ConfigError } from '../config/validate.ts';
import type { Principal } from '../core/request-context.ts';
import { allows } from '../core/scopes.ts';
import type { Clock } from '../core/clock.ts';
import type { ModelEntry, ModelStore } from '../repository/model-store.ts';
import { STATE_NAMESPACES } from '../state/snapshot-schema.ts';
import { parseStateSnapshot, type StateSnapshot, type StateStore } from '../state/state-store.ts';
import { bounded, stopWaiting, type WaitLimit } from './bounded-wait.ts';
import { movedLabel, rolledBackLabel, type EffectiveLabel, type LabelRecord } from './labels.ts';
import type { ManagedModel } from './managed-model.ts';
import type { ModelControlMode } from './model-context.ts';
import type { VersionStatus } from './model-state.ts';
import { predictionLogWidening } from './override-rules.ts';
import { applyPersistedState, explicitRecord, readPersistedState } from './persisted-state.ts';
import type { ServedVersion } from './served-version.ts';
import { STATE } from './state-namespaces.ts';

/** Fields of a model config that name files (they must stay in the model's folder). */
const FILE_FIELDS: readonly string[] = ['warmup.samplesFile', 'drift.baselineFile'];

/** What model control needs of the models it controls (the model manager gives it). */
export interface ControlHost {
  readonly controlMode: ModelControlMode;
  readonly modelStore: ModelStore;
  readonly stateStore: StateStore;
  readonly clock: Clock;
  /** How long a control call waits for loads and drains when the caller gives no deadline (ms). */
  readonly waitTimeoutMs: number;
  /** The managed model of that name. @throws SibylError MODEL_NOT_FOUND. */
  model(name: string): ManagedModel;
  /** The managed model of that name, if any. */
  find(name: string): ManagedModel | undefined;
  /** Every managed model. */
  all(): ManagedModel[];
  /** Takes a model just found in the store under management. */
  adopt(entry: ModelEntry): Promise<ManagedModel>;
  /** The version the model's default traffic goes to, when READY. */
  serving(name: string): ServedVersion | undefined;
  /** Writes a state entry; a failed write is logged, never thrown. */
  persist(namespace: string, key: string, value: unknown): Promise<void>;
}

export class ModelControl {
  constructor(private readonly host: ControlHost) {}

  private get mode(): string {
    return this.host.controlMode;
  }

  /** The caller's limit, or the default deadline from now. */
  private limit(wait: WaitLimit): WaitLimit {
    return { deadlineMs: wait.deadlineMs ?? this.host.clock.now() + this.host.waitTimeoutMs, signal: wait.signal };
  }

  private deadlineError(what: string): (waitedMs: number) => SibylError {
    return (waitedMs) => new SibylError('DEADLINE_EXCEEDED', `${what}: the deadline passed after ${waitedMs} ms; it goes on in the background`);
  }

  /** The prediction log of the model's own config.yaml (the schema's defaults when it has none or it does not compile). */
  private async ownPredictionLog(entry: ModelEntry): Promise<ModelConfig['predictionLog']> {
    try {
      return compileModelConfig(await this.host.modelStore.readConfig(entry), entry.configPath ?? `${entry.dir}/config.yaml`, entry.dir).predictionLog;
    } catch {
      return compileModelPredictionLog(undefined);
    }
  }

  private requireExplicit(action: 'load' | 'unload'): void {
    if (this.mode === 'explicit') return;
    throw new SibylError(
      'MODEL_CONTROL_DISABLED',
      `cannot ${action} models through the API: the model control mode is ${this.mode}${this.mode === 'poll' ? ' (the repository is watched and loads follow its files)' : ' (the repository is read once at start-up)'}; start the server with --model-control-mode explicit`,
    );
  }

  /**
   * Loads a model (explicit mode): reads its folder again, applies its version policy, and
   * returns once the versions it wants are READY. `config` (a model config document) replaces
   * config.yaml for this model until the next load without one.
   * The override is a caller's: the files it names must stay in the model's folder
   * (PATH_NOT_ALLOWED), and widening the prediction log (a higher sample rate, a field recorded
   * more openly than config.yaml says) needs `admin` of `principal` (SCOPE_MISSING; undefined:
   * authentication is off, allowed).
   * @throws SibylError MODEL_CONTROL_DISABLED, MODEL_NOT_FOUND, MODEL_LOAD_FAILED, PATH_NOT_ALLOWED, SCOPE_MISSING.
   */
  async load(name: string, options: { config?: unknown; principal?: Principal } & WaitLimit = {}): Promise<void> {
    this.requireExplicit('load');
    const limit = this.limit(options);
    const entry = await this.host.modelStore.model(name);
    if (options.config !== undefined) {
      let compiled: ModelConfig;
      try {
        compiled = compileModelConfig(options.config, `load request for '${name}' (parameters.config)`, entry.dir);
      } catch (err) {
        const outside = err instanceof ConfigError ? err.problems.filter((p) => FILE_FIELDS.includes(p.path)) : [];
        if (outside.length > 0) throw new SibylError('PATH_NOT_ALLOWED', `model '${name}' was not loaded: ${outside.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
        throw new SibylError('MODEL_LOAD_FAILED', `model '${name}' was not loaded: config error: ${(err as Error).message}`);
      }
      if (!allows(options.principal, 'admin')) {
        const widening = predictionLogWidening(await this.ownPredictionLog(entry), compiled.predictionLog);
        if (widening !== undefined) throw new SibylError('SCOPE_MISSING', `model '${name}' was not loaded: its config override records more of other callers' requests (${widening}); that needs the admin scope`);
      }
    }
    let model = this.host.find(name);
    if (model === undefined) {
      if (!entry.exists) this.host.model(name); // throws MODEL_NOT_FOUND
      model = await this.host.adopt(entry);
    }
    const before = { wanted: model.wanted, config: model.configOverride };
    model.wanted = true;
    model.configOverride = options.config;
    await this.host.persist(STATE.explicit, name, explicitRecord(options.config));
    await model.applyEntry(entry);
    await bounded(this.host.clock, limit, model.reconcile(), this.deadlineError(`model '${name}' is still loading`));
    const failures = model.failures();
    if (failures.length === 0) return;
    const serving = this.host.serving(name);
    // A failed load changes nothing that serves: when an earlier load of the model serves on, the
    // config it was loaded with stays in effect (and in the state store), so that a restart does
    // not bring back a config known to fail.
    if (serving !== undefined && before.wanted && JSON.stringify(before.config) !== JSON.stringify(options.config) && model.configOverride === options.config) {
      model.configOverride = before.config;
      await this.host.persist(STATE.explicit, name, explicitRecord(before.config));
      await bounded(this.host.clock, limit, model.update(), this.deadlineError(`model '${name}' is still going back to its earlier config`));
    }
    throw new SibylError(
      'MODEL_LOAD_FAILED',
      `model '${name}' failed to load: ${failures.join('; ')}; ${serving !== undefined ? `version ${serving.version} keeps serving` : 'no version of it serves'}`,
    );
  }

  /**
   * Unloads every version of a model (explicit mode) and returns once their requests have
   * drained. @throws SibylError MODEL_CONTROL_DISABLED, MODEL_NOT_FOUND.
   */
  async unload(name: string, wait: WaitLimit = {}): Promise<void> {
    this.requireExplicit('unload');
    const limit = this.limit(wait);
    const model = this.host.model(name);
    model.wanted = false;
    model.configOverride = undefined;
    await this.host.persist(STATE.explicit, name, { loaded: false });
    const done = model.update().then(() => model.whenDrained());
    await bounded(this.host.clock, limit, done, this.deadlineError(`model '${name}' is still unloading`));
  }

  /**
   * Points a label at a version, atomically: requests see the old target until the new one is
   * READY (loaded first if needed), then the new one. @throws SibylError LABEL_INVALID,
   * MODEL_NOT_FOUND.
   */
  async setLabel(name: string, label: string, version: number, wait: WaitLimit = {}): Promise<EffectiveLabel> {
    const model = this.host.model(name);
    if (!isLabelName(label)) {
      throw new SibylError('LABEL_INVALID', `${JSON.stringify(label)} is not a label name; expected a letter, then letters, digits, '_', '-' or '.' (at most 64 characters)`);
    }
    await this.ensureServing(model, version, `cannot point label '${label}' of model '${name}' at version ${version}`, this.limit(wait));
    model.setApiLabels([[label, movedLabel(model.apiLabels.get(label), model.labels().get(label)?.version, version)]]);
    await this.saveLabels(model);
    return model.labels().get(label)!;
  }

  /** Removes a label set through the API (the config's, if it has one, applies again). */
  async deleteLabel(name: string, label: string): Promise<void> {
    const model = this.host.model(name);
    if (!model.apiLabels.has(label)) {
      if (model.labels().has(label)) {
        throw new SibylError('LABEL_INVALID', `label '${label}' of model '${name}' is set in its config.yaml, not through the API; edit the file to remove it`);
      }
      throw new SibylError('LABEL_NOT_FOUND', `model '${name}' has no label '${label}'`);
    }
    model.setApiLabels([[label, undefined]]);
    await this.saveLabels(model);
  }

  /**
   * Moves a label back to its previous target (loaded first if needed).
   * @throws SibylError ROLLBACK_UNAVAILABLE when it has none, or the version cannot serve.
   */
  async rollback(name: string, label = 'stable', wait: WaitLimit = {}): Promise<{ label: string; version: number; previous: number }> {
    const model = this.host.model(name);
    const current = model.apiLabels.get(label);
    const rolled = rolledBackLabel(current);
    if (current === undefined || rolled === undefined) {
      const effective = model.labels().get(label);
      const how = `a rollback returns a label to the version it pointed at before its last move through the API (sibyl models label ${name} ${label} <version> moves it)`;
      if (effective === undefined) throw new SibylError('ROLLBACK_UNAVAILABLE', `model '${name}' has no label '${label}'; ${how}`);
      const why =
        current === undefined
          ? `it is set in config.yaml (to version ${effective.version}) and has not been moved through the API`
          : `it points at version ${effective.version} and no earlier target is left in its history (a label's first move has none; each rollback uses one)`;
      const undo = current === undefined ? '' : `; to take the label away, sibyl models label ${name} ${label} --delete`;
      throw new SibylError('ROLLBACK_UNAVAILABLE', `label '${label}' of model '${name}' has no earlier target: ${why}; ${how}${undo}`);
    }
    if (!model.present.includes(rolled.version) && model.record(rolled.version)?.served === undefined) {
      throw new SibylError('ROLLBACK_UNAVAILABLE', `the earlier target of label '${label}' of model '${name}', version ${rolled.version}, is no longer in the repository`);
    }
    try {
      await this.ensureServing(model, rolled.version, `cannot roll label '${label}' of model '${name}' back to version ${rolled.version}`, this.limit(wait));
    } catch (err) {
      if (err instanceof SibylError && (err.reason === 'DEADLINE_EXCEEDED' || err.reason === 'REQUEST_CANCELLED')) throw err;
      throw new SibylError('ROLLBACK_UNAVAILABLE', (err as Error).message);
    }
    model.setApiLabels([[label, rolled]]);
    await this.saveLabels(model);
    return { label, version: rolled.version, previous: current.version };
  }

  /**
   * Loads `version` for a label if it is not READY, and waits until it is, its load fails, or the
   * limit comes. @throws SibylError LABEL_INVALID, DEADLINE_EXCEEDED or REQUEST_CANCELLED (the
   * label is not moved; the version is no longer held for it).
   */
  private async ensureServing(model: ManagedModel, version: number, what: string, limit: WaitLimit): Promise<void> {
    const record = model.record(version);
    if (record === undefined) {
      throw new SibylError('LABEL_INVALID', `${what}: the model has no version ${version}; its versions are ${model.present.join(', ') || 'none'}`);
    }
    if (record.status.state === 'READY' || !model.wanted) return;
    const release = model.holdForLabel(version);
    const started = this.host.clock.now();
    const stop = stopWaiting(this.host.clock, limit);
    try {
      await model.demand(record, stop.ended.then(() => undefined));
    } finally {
      stop.dispose();
      release();
    }
    const after = record.status as VersionStatus; // changed by the load
    if (stop.why === 'deadline' && after.state !== 'READY') {
      throw new SibylError('DEADLINE_EXCEEDED', `${what}: it was still ${after.state} when the deadline passed after ${Math.round(this.host.clock.now() - started)} ms; the label was not moved`);
    }
    if (stop.why === 'cancelled' && after.state !== 'READY') throw new SibylError('REQUEST_CANCELLED', `${what}: the caller went away while it loaded; the label was not moved`);
    if (after.state !== 'READY') throw new SibylError('LABEL_INVALID', `${what}: it cannot serve (${after.state}: ${after.reason})`);
  }

  private async saveLabels(model: ManagedModel): Promise<void> {
    const labels: Record<string, LabelRecord> = Object.fromEntries(model.apiLabels);
    if (model.apiLabels.size === 0) await this.host.stateStore.delete(STATE.labels, model.name);
    else await this.host.persist(STATE.labels, model.name, labels);
    await model.update();
  }

  /** Everything the state store holds. */
  snapshot(): Promise<StateSnapshot> {
    return this.host.stateStore.export();
  }

  /**
   * Restores a snapshot and applies it: labels, explicit loads and last known good versions take
   * effect at once. Each namespace the snapshot names replaces the store's; a namespace it does
   * not name is kept (a restore never wipes one silently: name it with {} to empty it). The
   * running batch jobs (`batch-jobs`) are this server's own tracking and are never restored or
   * wiped: the snapshot's are ignored. @throws SibylError STATE_INVALID.
   */
  async restore(document: unknown, source: string): Promise<void> {
    const snapshot = parseStateSnapshot(document, source);
    const current = await this.host.stateStore.export();
    const entries = { ...current.entries };
    for (const [namespace, keys] of Object.entries(snapshot.entries)) if (namespace !== STATE_NAMESPACES.batchJobs) entries[namespace] = keys;
    await this.host.stateStore.import({ ...snapshot, entries });
    const state = await readPersistedState(this.host.stateStore);
    await Promise.all(
      this.host.all().map(async (model) => {
        applyPersistedState(model, state, this.host.controlMode);
        await model.update();
      }),
    );
  }
}

// Model control through the API: explicit loads and unloads (Triton's repository extension),
// labels moved atomically, rollback, and the state store's snapshot and restore. Every change
// that must survive a restart is written to the state store before the call returns.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { SibylError } from '@sibyl/protocol';
import { compileModelConfig, isLabelName } from '../config/model-config.ts';
import { scanModel, type ModelEntry } from '../repository/scan.ts';
import { parseStateSnapshot, type StateSnapshot } from '../state/state-store.ts';
import { movedLabel, rolledBackLabel, type EffectiveLabel, type LabelRecord } from './labels.ts';
import { ManagedModel } from './managed-model.ts';
import { parseSignatureReference } from './signature-compatibility.ts';
import type { VersionStatus } from './model-state.ts';
import type { ModelManager, PersistedState } from './model-manager.ts';
import { STATE } from './state-namespaces.ts';

export class ModelControl {
  constructor(private readonly manager: ModelManager) {}

  private get mode(): string {
    return this.manager.options.controlMode;
  }

  /** A managed model for a scanned folder, with what the state store says of it. */
  create(entry: ModelEntry, state: PersistedState): ManagedModel {
    const { controlMode, startupModels } = this.manager.options;
    const explicit = state.explicit.get(entry.name);
    const wanted = controlMode !== 'explicit' || (explicit !== undefined ? explicit.loaded : startupModels.includes('*') || startupModels.includes(entry.name));
    const model = new ManagedModel(entry, this.manager.contextFor(entry.name), { wanted });
    this.applyState(model, state);
    return model;
  }

  private applyState(model: ManagedModel, state: PersistedState): void {
    const explicit = state.explicit.get(model.name);
    if (this.mode === 'explicit' && explicit !== undefined) {
      model.wanted = explicit.loaded;
      model.configOverride = explicit.loaded ? explicit.config : undefined;
    }
    model.setApiLabels(Object.entries(state.labels.get(model.name) ?? {}), { replaceAll: true });
    model.lastKnownGood = state.models.get(model.name)?.lastKnownGood;
    model.signatureReference = parseSignatureReference(state.models.get(model.name)?.signatureReference);
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
   * @throws SibylError MODEL_CONTROL_DISABLED, MODEL_NOT_FOUND, MODEL_LOAD_FAILED.
   */
  async load(name: string, options: { config?: unknown } = {}): Promise<void> {
    this.requireExplicit('load');
    if (options.config !== undefined) {
      try {
        compileModelConfig(options.config, `load request for '${name}' (parameters.config)`, path.join(this.manager.options.repository, name));
      } catch (err) {
        throw new SibylError('MODEL_LOAD_FAILED', `model '${name}' was not loaded: config error: ${(err as Error).message}`);
      }
    }
    const entry = await scanModel(name, path.join(this.manager.options.repository, name));
    let model = this.manager.models.get(name);
    if (model === undefined) {
      if (!(await isDirectory(entry.dir))) this.manager.model(name); // throws MODEL_NOT_FOUND, naming the known models
      model = this.manager.adopt(this.create(entry, await this.manager.readState()));
    }
    const before = { wanted: model.wanted, config: model.configOverride };
    model.wanted = true;
    model.configOverride = options.config;
    await this.manager.persist(STATE.explicit, name, explicitRecord(options.config));
    await model.applyEntry(entry);
    await model.reconcile();
    const failures = model.failures();
    if (failures.length === 0) return;
    const serving = this.manager.status(name).served;
    // A failed load changes nothing that serves: when an earlier load of the model serves on, the
    // config it was loaded with stays in effect (and in the state store), so that a restart does
    // not bring back a config known to fail.
    if (serving !== undefined && before.wanted && JSON.stringify(before.config) !== JSON.stringify(options.config) && model.configOverride === options.config) {
      model.configOverride = before.config;
      await this.manager.persist(STATE.explicit, name, explicitRecord(before.config));
      await model.update();
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
  async unload(name: string): Promise<void> {
    this.requireExplicit('unload');
    const model = this.manager.model(name);
    model.wanted = false;
    model.configOverride = undefined;
    await this.manager.persist(STATE.explicit, name, { loaded: false });
    await model.update();
    await model.whenDrained();
  }

  /**
   * Points a label at a version, atomically: requests see the old target until the new one is
   * READY (loaded first if needed), then the new one. @throws SibylError LABEL_INVALID,
   * MODEL_NOT_FOUND.
   */
  async setLabel(name: string, label: string, version: number): Promise<EffectiveLabel> {
    const model = this.manager.model(name);
    if (!isLabelName(label)) {
      throw new SibylError('LABEL_INVALID', `${JSON.stringify(label)} is not a label name; expected a letter, then letters, digits, '_', '-' or '.' (at most 64 characters)`);
    }
    await this.ensureServing(model, version, `cannot point label '${label}' of model '${name}' at version ${version}`);
    model.setApiLabels([[label, movedLabel(model.apiLabels.get(label), model.labels().get(label)?.version, version)]]);
    await this.saveLabels(model);
    return model.labels().get(label)!;
  }

  /** Removes a label set through the API (the config's, if it has one, applies again). */
  async deleteLabel(name: string, label: string): Promise<void> {
    const model = this.manager.model(name);
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
  async rollback(name: string, label = 'stable'): Promise<{ label: string; version: number; previous: number }> {
    const model = this.manager.model(name);
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
      await this.ensureServing(model, rolled.version, `cannot roll label '${label}' of model '${name}' back to version ${rolled.version}`);
    } catch (err) {
      throw new SibylError('ROLLBACK_UNAVAILABLE', (err as Error).message);
    }
    model.setApiLabels([[label, rolled]]);
    await this.saveLabels(model);
    return { label, version: rolled.version, previous: current.version };
  }

  /** Loads `version` for a label if it is not READY, and waits. @throws SibylError LABEL_INVALID. */
  private async ensureServing(model: ManagedModel, version: number, what: string): Promise<void> {
    const record = model.record(version);
    if (record === undefined) {
      throw new SibylError('LABEL_INVALID', `${what}: the model has no version ${version}; its versions are ${model.present.join(', ') || 'none'}`);
    }
    if (record.status.state === 'READY' || !model.wanted) return;
    const release = model.holdForLabel(version);
    try {
      await model.demand(record, new Promise(() => undefined));
    } finally {
      release();
    }
    const after = record.status as VersionStatus; // changed by the load
    if (after.state !== 'READY') throw new SibylError('LABEL_INVALID', `${what}: it cannot serve (${after.state}: ${after.reason})`);
  }

  private async saveLabels(model: ManagedModel): Promise<void> {
    const labels: Record<string, LabelRecord> = Object.fromEntries(model.apiLabels);
    if (model.apiLabels.size === 0) await this.manager.options.store.delete(STATE.labels, model.name);
    else await this.manager.persist(STATE.labels, model.name, labels);
    await model.update();
  }

  /** Everything the state store holds. */
  snapshot(): Promise<StateSnapshot> {
    return this.manager.options.store.export();
  }

  /**
   * Replaces the state store's contents with a snapshot and applies it: labels, explicit loads
   * and last known good versions take effect at once. @throws SibylError STATE_INVALID.
   */
  async restore(document: unknown, source: string): Promise<void> {
    const snapshot = parseStateSnapshot(document, source);
    await this.manager.options.store.import(snapshot);
    const state = await this.manager.readState();
    await Promise.all(
      [...this.manager.models.values()].map(async (model) => {
        this.applyState(model, state);
        await model.update();
      }),
    );
  }
}

/** The state store's record of an explicit load. */
function explicitRecord(config: unknown): { loaded: true; config?: unknown } {
  return config === undefined ? { loaded: true } : { loaded: true, config };
}

/** Whether `dir` is a folder. */
export async function isDirectory(dir: string): Promise<boolean> {
  return (await stat(dir).catch(() => undefined))?.isDirectory() ?? false;
}

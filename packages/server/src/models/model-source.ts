// What one model's store entry says now: its versions, its config (compiled from the store's
// config.yaml, or from an override given with an explicit load) and the fingerprints that tell a
// version's files and config apart. A config that does not compile is reported and the one in
// use is kept.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { compileModelConfig, type ModelConfig } from '../config/model-config.ts';
import type { ModelEntry, ModelStore } from '../repository/model-store.ts';
import { missingSpecificVersions } from '../repository/version-policy.ts';

export class ModelSource {
  /** Config given with an explicit load, in place of config.yaml. */
  configOverride: unknown;
  private current: ModelEntry;
  private compiled: ModelConfig | undefined;
  private configFingerprint = '';
  private configProblem = '';
  private ignoredNotes = '';

  constructor(
    entry: ModelEntry,
    private readonly store: ModelStore,
    private readonly log: Logger,
  ) {
    this.current = entry;
  }

  get entry(): ModelEntry {
    return this.current;
  }

  /** The config in use; undefined until one compiles. */
  get config(): ModelConfig | undefined {
    return this.compiled;
  }

  /** Versions the store holds now, ascending. */
  get present(): number[] {
    return this.current.versions.map((v) => v.version);
  }

  /** Where the config in use comes from, for messages. */
  get configSource(): string {
    return this.configOverride !== undefined ? `load request for '${this.current.name}' (parameters.config)` : (this.current.configPath ?? `${this.current.dir}/config.yaml`);
  }

  /** A problem of the model as a whole that keeps it from serving (config error, no versions), else ''. */
  get problem(): string {
    if (this.configProblem !== '' && this.compiled === undefined) return this.configProblem;
    if (this.current.versions.length === 0) return `no version folders in ${this.current.dir}: expected <model>/<version>/model.onnx with a positive integer version`;
    return this.configProblem;
  }

  /** The config's problem while an earlier config stays in use, else ''. */
  get configError(): string {
    return this.configProblem;
  }

  /** Notes on the model's folder (entries that are not versions). */
  folderWarnings(): string[] {
    return this.current.ignored.map((note) => `${this.current.dir}: ${note}`);
  }

  /** Versions the version policy names that are not there. */
  policyWarnings(): string[] {
    if (this.compiled === undefined) return [];
    return missingSpecificVersions(this.compiled.versionPolicy, this.present).map((v) => `versionPolicy names version ${v}, which is not in the repository`);
  }

  /** Takes in a new listing of the model and reads its config again. */
  async apply(entry: ModelEntry): Promise<void> {
    this.current = entry;
    const notes = entry.ignored.join('\n');
    if (notes !== this.ignoredNotes) for (const note of entry.ignored) this.log.warn(`${entry.dir}: ${note}`);
    this.ignoredNotes = notes;
    await this.refreshConfig();
  }

  /** Compiles the config again when it (or the override) changed. */
  async refreshConfig(): Promise<void> {
    const override = this.configOverride;
    const fingerprint = override !== undefined ? `override:${createHash('sha256').update(JSON.stringify(override)).digest('hex')}` : `file:${this.current.configFingerprint}`;
    if (fingerprint === this.configFingerprint && this.compiled !== undefined) {
      // Back to the config in use (a broken file put right, a failed override withdrawn).
      this.configProblem = '';
      return;
    }
    try {
      const document = override !== undefined ? override : await this.store.readConfig(this.current);
      this.compiled = compileModelConfig(document, this.configSource, this.current.dir);
      this.configFingerprint = fingerprint;
      this.configProblem = '';
    } catch (err) {
      const problem = `config error: ${(err as Error).message}`;
      if (problem !== this.configProblem) this.log.error(this.compiled === undefined ? problem : `${problem} (the previous config stays in use)`);
      this.configProblem = problem;
    }
  }

  /** The fingerprint a version loaded now would have: its model file and the config in use. */
  fingerprintOf(version: number): string | undefined {
    const v = this.current.versions.find((e) => e.version === version);
    return v === undefined ? undefined : `${v.fingerprint}|${this.configFingerprint}`;
  }
}

// A model store in memory, for tests and embedding: models, versions (their artifact bytes, or
// none) and config.yaml texts put in and taken out by the owner. Paths are `memory://` names;
// a runtime that reads files cannot load them, one that asks readArtifact can.
import { parseYaml } from '../config/yaml-file.ts';
import type { ModelStore } from './model-store.ts';
import { ARTIFACT_FILE, MODEL_CONFIG_FILE, type ModelEntry } from './scan.ts';

interface StoredModel {
  config: { text: string; revision: number } | undefined;
  /** Artifact bytes by version (null: a version folder without its artifact). */
  versions: Map<number, { bytes: Uint8Array | null; revision: number }>;
}

export class MemoryModelStore implements ModelStore {
  readonly location = 'memory';
  private readonly models = new Map<string, StoredModel>();
  private revision = 0;

  /** Adds a model with no versions (like an empty folder). */
  putModel(name: string): void {
    if (name === '' || name.startsWith('.') || name.includes('/')) throw new Error(`'${name}' is not a model name`);
    if (!this.models.has(name)) this.models.set(name, { config: undefined, versions: new Map() });
  }

  /** Puts (or replaces: a new fingerprint) a version's artifact; null leaves the version without one. */
  putVersion(model: string, version: number, artifact: Uint8Array | string | null): void {
    if (!Number.isSafeInteger(version) || version < 1) throw new Error(`version ${version} is not a positive integer`);
    this.putModel(model);
    const bytes = typeof artifact === 'string' ? new TextEncoder().encode(artifact) : artifact === null ? null : artifact.slice();
    this.models.get(model)!.versions.set(version, { bytes, revision: ++this.revision });
  }

  removeVersion(model: string, version: number): void {
    this.models.get(model)?.versions.delete(version);
  }

  /** Puts a model's config.yaml text (undefined removes it). */
  putConfig(model: string, text: string | undefined): void {
    this.putModel(model);
    this.models.get(model)!.config = text === undefined ? undefined : { text, revision: ++this.revision };
  }

  removeModel(model: string): void {
    this.models.delete(model);
  }

  async list(): Promise<ModelEntry[]> {
    return [...this.models.keys()].sort().map((name) => this.entryOf(name));
  }

  async model(name: string): Promise<ModelEntry> {
    return this.entryOf(name);
  }

  async readConfig(entry: ModelEntry): Promise<unknown> {
    const config = this.models.get(entry.name)?.config;
    if (entry.configPath === undefined || config === undefined) return undefined;
    return parseYaml(config.text, entry.configPath);
  }

  async readArtifact(model: string, version: number): Promise<Uint8Array> {
    const bytes = this.models.get(model)?.versions.get(version)?.bytes;
    if (bytes === undefined || bytes === null) throw new Error(`${this.artifactPath(model, version)} is missing`);
    return bytes.slice();
  }

  private artifactPath(model: string, version: number): string {
    return `memory://${model}/${version}/${ARTIFACT_FILE}`;
  }

  private entryOf(name: string): ModelEntry {
    const dir = `memory://${name}`;
    const stored = this.models.get(name);
    if (stored === undefined) return { name, dir, configPath: undefined, configFingerprint: 'none', versions: [], ignored: [], exists: false };
    const versions = [...stored.versions].sort(([a], [b]) => a - b).map(([version, v]) => ({
      version,
      dir: `${dir}/${version}`,
      artifactPath: this.artifactPath(name, version),
      fingerprint: v.bytes === null ? 'missing' : `${v.bytes.length}:r${v.revision}`,
      artifactBytes: v.bytes?.length ?? 0,
    }));
    return {
      name,
      dir,
      configPath: stored.config === undefined ? undefined : `${dir}/${MODEL_CONFIG_FILE}`,
      configFingerprint: stored.config === undefined ? 'none' : `r${stored.config.revision}`,
      versions,
      ignored: [],
      exists: true,
    };
  }
}

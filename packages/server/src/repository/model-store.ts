// The model store port: where the model manager reads models from. The manager asks for the
// models and their versions (a fresh listing on each call: polling for changes is the manager's,
// on its clock), a model's config document, and a version's artifact. Adapters: the filesystem
// (the model repository folder, the default) and memory (tests, embedding). Scanning never loads.
import type { ModelEntry } from './scan.ts';

export type { ModelEntry, VersionEntry } from './scan.ts';

export interface ModelStore {
  /** Where the models live, for messages (`/srv/models`, `memory`). */
  readonly location: string;
  /**
   * Every model, sorted by name, each with its versions ascending; entries whose name starts
   * with '.' are skipped. A version's `fingerprint` changes whenever its artifact changes, a
   * model's `configFingerprint` whenever its config does.
   * @throws Error when the store cannot be read at all (the message names it and says why).
   */
  list(): Promise<ModelEntry[]>;
  /** One model; a model that is not there (or goes while it is read) has no versions and `exists: false`. */
  model(name: string): Promise<ModelEntry>;
  /**
   * The config document of a model as read from `entry.configPath` (undefined when it has none).
   * @throws ConfigError naming the config's source when it cannot be read or parsed.
   */
  readConfig(entry: ModelEntry): Promise<unknown>;
  /** The bytes of a version's artifact. @throws Error when it is missing. */
  readArtifact(model: string, version: number): Promise<Uint8Array>;
}

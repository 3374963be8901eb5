// The model store on a folder: <repo>/<model>/<version>/model.onnx plus an optional
// <repo>/<model>/config.yaml (see scan.ts for how the folder is read).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { readYamlFile } from '../config/yaml-file.ts';
import type { ModelStore } from './model-store.ts';
import { ARTIFACT_FILE, scanModel, scanRepository, type ModelEntry } from './scan.ts';

export class FilesystemModelStore implements ModelStore {
  /** `root`: the model repository folder. */
  constructor(readonly location: string) {}

  list(): Promise<ModelEntry[]> {
    return scanRepository(this.location);
  }

  model(name: string): Promise<ModelEntry> {
    return scanModel(name, path.join(this.location, name));
  }

  async readConfig(entry: ModelEntry): Promise<unknown> {
    return entry.configPath === undefined ? undefined : readYamlFile(entry.configPath);
  }

  async readArtifact(model: string, version: number): Promise<Uint8Array> {
    return new Uint8Array(await readFile(path.join(this.location, model, String(version), ARTIFACT_FILE)));
  }
}

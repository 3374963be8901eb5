// The model store on a folder: <repo>/<model>/<version>/model.onnx plus an optional
// <repo>/<model>/config.yaml (see scan.ts for how the folder is read).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { checkName, SibylError } from '@sibyl/protocol';
import { readYamlFile } from '../config/yaml-file.ts';
import type { ModelStore } from './model-store.ts';
import { ARTIFACT_FILE, scanModel, scanRepository, type ModelEntry } from './scan.ts';

export class FilesystemModelStore implements ModelStore {
  /** `root`: the model repository folder. */
  constructor(readonly location: string) {}

  list(): Promise<ModelEntry[]> {
    return scanRepository(this.location);
  }

  // Names arrive from the network (load requests, paths, gRPC): each is checked by the one rule
  // at its entry, and again here, where it becomes a path (defence in depth).
  async model(name: string): Promise<ModelEntry> {
    return scanModel(name, pathInside(this.location, checkName(name, 'model')));
  }

  async readConfig(entry: ModelEntry): Promise<unknown> {
    return entry.configPath === undefined ? undefined : readYamlFile(entry.configPath);
  }

  async readArtifact(model: string, version: number): Promise<Uint8Array> {
    return new Uint8Array(await readFile(pathInside(this.location, checkName(model, 'model'), String(version), ARTIFACT_FILE)));
  }
}

/**
 * `parts` joined under `root` (as path.join does), refused unless the resolved path stays inside it.
 * @throws SibylError NAME_INVALID when it would not.
 */
export function pathInside(root: string, ...parts: string[]): string {
  const base = path.resolve(root);
  const resolved = path.resolve(base, ...parts);
  if (!resolved.startsWith(base + path.sep)) {
    throw new SibylError('NAME_INVALID', `the name ${JSON.stringify(parts.join('/').slice(0, 80))} would leave the model repository; names are folders inside it`);
  }
  return path.join(root, ...parts);
}

// Reads the model repository layout: <repo>/<model>/<version>/model.onnx with numeric version
// folders, and an optional <repo>/<model>/config.yaml. Scanning never loads anything.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

export const ARTIFACT_FILE = 'model.onnx';
export const MODEL_CONFIG_FILE = 'config.yaml';

export interface VersionEntry {
  version: number;
  dir: string;
  artifactPath: string;
  /** Size and modification time of the artifact ('missing' without one): a change means new files. */
  fingerprint: string;
  /** Size of the artifact in bytes when scanned (0 without one). */
  artifactBytes: number;
}

export interface ModelEntry {
  name: string;
  dir: string;
  /** Path of config.yaml when the model has one. */
  configPath: string | undefined;
  /** Size and modification time of config.yaml ('none' without one). */
  configFingerprint: string;
  /** Numeric version folders, ascending. */
  versions: VersionEntry[];
  /** Folders of the model that are not version folders, with why (for warnings). */
  ignored: string[];
  /** False when the model folder is gone (the model left the repository). */
  exists: boolean;
}

/** Positive integers below 2^53, so that a version is an exact JavaScript number. */
const VERSION_NAME = /^[1-9][0-9]{0,14}$/;

async function isDirectory(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

async function fingerprintOf(p: string, absent: string): Promise<string> {
  return (await fileInfo(p, absent)).fingerprint;
}

async function fileInfo(p: string, absent: string): Promise<{ fingerprint: string; bytes: number }> {
  const info = await stat(p).catch(() => undefined);
  return info === undefined || !info.isFile() ? { fingerprint: absent, bytes: 0 } : { fingerprint: `${info.size}:${info.mtimeMs}`, bytes: info.size };
}

/**
 * Lists the models of a repository, sorted by name. Hidden entries (starting with '.') are skipped.
 * @throws Error when the repository folder does not exist or cannot be read.
 */
export async function scanRepository(root: string): Promise<ModelEntry[]> {
  let names: string[];
  const info = await stat(root).catch((err: NodeJS.ErrnoException) => err);
  if (info instanceof Error) {
    throw new Error(`cannot read the model repository ${root}: ${info.code === 'ENOENT' ? 'no such folder' : info.message}`, { cause: info });
  }
  if (!info.isDirectory()) throw new Error(`the model repository ${root} is a file, not a folder of models`);
  try {
    names = (await readdir(root)).filter((n) => !n.startsWith('.')).sort();
  } catch (err) {
    throw new Error(`cannot read the model repository ${root}: ${(err as Error).message}`, { cause: err });
  }
  const models: ModelEntry[] = [];
  for (const name of names) {
    const dir = path.join(root, name);
    if (!(await isDirectory(dir))) continue;
    models.push(await scanModel(name, dir));
  }
  return models;
}

/** Reads one model folder. A folder that is gone (or goes while it is read) reads as a model with no versions. */
export async function scanModel(name: string, dir: string): Promise<ModelEntry> {
  const entry: ModelEntry = { name, dir, configPath: undefined, configFingerprint: 'none', versions: [], ignored: [], exists: true };
  if (!(await isDirectory(dir))) return { ...entry, exists: false };
  for (const child of (await readdir(dir).catch(() => [] as string[])).sort()) {
    if (child.startsWith('.')) continue;
    const childPath = path.join(dir, child);
    if (child === MODEL_CONFIG_FILE) {
      entry.configPath = childPath;
      entry.configFingerprint = await fingerprintOf(childPath, 'none');
    } else if (await isDirectory(childPath)) {
      if (VERSION_NAME.test(child)) {
        const artifactPath = path.join(childPath, ARTIFACT_FILE);
        const artifact = await fileInfo(artifactPath, 'missing');
        entry.versions.push({ version: Number(child), dir: childPath, artifactPath, fingerprint: artifact.fingerprint, artifactBytes: artifact.bytes });
      } else {
        entry.ignored.push(`folder '${child}' is not a version: version folders are positive integers (1, 2, 10, …)`);
      }
    }
    // Other files (READMEs, samples, training notes) belong to the model's folder and are ignored.
  }
  entry.versions.sort((a, b) => a.version - b.version);
  return entry;
}

// Writing model repositories (`<repo>/<model>/<version>/model.onnx` + optional
// `<repo>/<model>/config.yaml`) into temporary directories for tests.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep, isAbsolute } from 'node:path';

/** One model of a repository to write. */
export interface ModelFiles {
  /** Version number → model.onnx content: bytes, or a string written as UTF-8 (e.g. corrupt). */
  readonly versions: Readonly<Record<number, Uint8Array | string>>;
  /** Written verbatim as `<model>/config.yaml` when given. */
  readonly config?: string;
}

/**
 * Writes each model's versions and config under `dir` (created if missing; existing files with
 * the same names are overwritten, others left alone). Version keys must be integers ≥ 0 and
 * model names single path segments; anything else throws before writing.
 */
export async function writeModelRepository(dir: string, models: Readonly<Record<string, ModelFiles>>): Promise<void> {
  for (const [model, files] of Object.entries(models)) {
    if (model === '' || model === '.' || model === '..' || /[\\/]/.test(model)) {
      throw new TypeError(`model name ${JSON.stringify(model)} is not a single path segment`);
    }
    for (const version of Object.keys(files.versions)) {
      if (!/^(0|[1-9]\d*)$/.test(version)) {
        throw new TypeError(`model ${model}: version ${version} is not an integer ≥ 0`);
      }
    }
  }
  for (const [model, files] of Object.entries(models)) {
    await mkdir(join(dir, model), { recursive: true });
    for (const [version, content] of Object.entries(files.versions)) {
      await mkdir(join(dir, model, version), { recursive: true });
      await writeFile(join(dir, model, version, 'model.onnx'), content);
    }
    if (files.config !== undefined) await writeFile(join(dir, model, 'config.yaml'), files.config);
  }
}

/** Creates a fresh empty directory `<os.tmpdir()>/<prefix>XXXXXX` and returns its path. */
export async function makeTempDir(prefix = 'sibyl-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/**
 * Removes `dir` and everything in it (no error if it is gone). Refuses, with an Error, any
 * path that is not strictly inside os.tmpdir(): a guard against a test deleting real files.
 */
export async function removeDir(dir: string): Promise<void> {
  const inside = relative(resolve(tmpdir()), resolve(dir));
  if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    throw new Error(`removeDir only removes directories inside ${tmpdir()}, not ${dir}`);
  }
  await rm(dir, { recursive: true, force: true });
}

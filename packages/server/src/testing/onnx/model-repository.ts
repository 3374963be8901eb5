// Writing model repositories (`<repo>/<model>/<version>/model.onnx` + optional
// `<repo>/<model>/config.yaml`) into temporary directories for tests.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';

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

/** Prefix of every directory makeTempDir creates; removeDir removes nothing else. */
const TEMP_PREFIX = 'sibyl-';

/** Creates a fresh empty directory `<os.tmpdir()>/<prefix>XXXXXX` and returns its path. */
export async function makeTempDir(prefix = 'sibyl-test-'): Promise<string> {
  if (!prefix.startsWith(TEMP_PREFIX) || /[\\/]/.test(prefix)) throw new TypeError(`makeTempDir prefix must start with '${TEMP_PREFIX}' and name no folder; got ${JSON.stringify(prefix)}`);
  return mkdtemp(join(tmpdir(), prefix));
}

/**
 * Removes a directory made by makeTempDir and everything in it (no error if it is gone). Refuses,
 * with an Error, anything else: only a direct child of os.tmpdir() named `sibyl-…`, and never the
 * working directory or a folder holding it (a checkout may itself live under /tmp).
 */
export async function removeDir(dir: string): Promise<void> {
  const target = resolve(dir);
  const cwd = process.cwd();
  const madeByUs = dirname(target) === resolve(tmpdir()) && basename(target).startsWith(TEMP_PREFIX);
  const holdsCwd = cwd === target || cwd.startsWith(`${target}${sep}`);
  if (!madeByUs || holdsCwd) {
    throw new Error(`removeDir only removes directories made by makeTempDir (${join(tmpdir(), `${TEMP_PREFIX}*`)}), not ${dir}`);
  }
  await rm(target, { recursive: true, force: true });
}

import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { makeTempDir, removeDir, writeModelRepository } from './model-repository.ts';
import { CORRUPT_MODEL_TEXT, identityModel } from './models.ts';

describe('writeModelRepository', () => {
  it('writes <model>/<version>/model.onnx and <model>/config.yaml that onnxruntime loads by path', async () => {
    const dir = await makeTempDir('sibyl-onnx-repo-');
    try {
      const model = identityModel('FP32', ['batch', 2]);
      await writeModelRepository(dir, {
        echo: { versions: { 1: model.bytes, 3: CORRUPT_MODEL_TEXT }, config: 'max_batch_size: 8\n' },
        plain: { versions: { 1: model.bytes } },
      });
      expect((await readdir(dir)).sort()).toEqual(['echo', 'plain']);
      expect((await readdir(join(dir, 'echo'))).sort()).toEqual(['1', '3', 'config.yaml']);
      expect(await readdir(join(dir, 'plain'))).toEqual(['1']);
      expect(await readFile(join(dir, 'echo', 'config.yaml'), 'utf8')).toBe('max_batch_size: 8\n');
      expect(await readFile(join(dir, 'echo', '3', 'model.onnx'), 'utf8')).toBe(CORRUPT_MODEL_TEXT);
      expect(new Uint8Array(await readFile(join(dir, 'echo', '1', 'model.onnx')))).toEqual(model.bytes);

      const session = await ort.InferenceSession.create(join(dir, 'plain', '1', 'model.onnx'));
      try {
        const out = await session.run({ input: new ort.Tensor('float32', new Float32Array([1, 2]), [1, 2]) });
        expect(Array.from(out['output']!.data as Float32Array)).toEqual([1, 2]);
      } finally {
        await session.release();
      }
      await expect(ort.InferenceSession.create(join(dir, 'echo', '3', 'model.onnx'))).rejects.toThrow();
    } finally {
      await removeDir(dir);
    }
    expect(existsSync(dir)).toBe(false);
  });

  it.each([
    ['a version that is not an integer', { m: { versions: { 1.5: 'x' } } }, /version 1.5 is not an integer/],
    ['a model name with a slash', { 'a/b': { versions: { 1: 'x' } } }, /not a single path segment/],
    ['a model name ..', { '..': { versions: { 1: 'x' } } }, /not a single path segment/],
  ])('rejects %s before writing anything', async (_, models, message) => {
    const dir = await makeTempDir();
    try {
      await expect(writeModelRepository(dir, models)).rejects.toThrow(message);
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await removeDir(dir);
    }
  });
});

describe('makeTempDir and removeDir', () => {
  it('creates distinct empty directories under os.tmpdir()', async () => {
    const [a, b] = await Promise.all([makeTempDir('sibyl-x-'), makeTempDir('sibyl-x-')]);
    try {
      expect(a).not.toBe(b);
      expect(a.startsWith(join(tmpdir(), 'sibyl-x-'))).toBe(true);
      expect(await readdir(a)).toEqual([]);
    } finally {
      await removeDir(a);
      await removeDir(b);
    }
  });

  it('does not mind a directory that is already gone', async () => {
    const dir = await makeTempDir();
    await removeDir(dir);
    await expect(removeDir(dir)).resolves.toBeUndefined();
  });

  // Never '.', which may be inside the temporary folder when a checkout lives under /tmp.
  const outside = [tmpdir(), join(tmpdir(), '..'), '/work', join(tmpdir(), '..', 'etc'), join(tmpdir(), 'not-ours'), join(tmpdir(), 'sibyl-x', 'nested')];
  it.each(outside)('refuses to remove %s', async (dir) => {
    await expect(removeDir(dir)).rejects.toThrow(/only removes directories made by makeTempDir/);
  });

  it('refuses the working directory even when it is a sibyl- folder in the temporary folder', async () => {
    const dir = await makeTempDir('sibyl-cwd-');
    const before = process.cwd();
    process.chdir(dir);
    try {
      await expect(removeDir(dir)).rejects.toThrow(/only removes directories made by makeTempDir/);
    } finally {
      process.chdir(before);
    }
    await removeDir(dir);
  });

  it('makeTempDir insists on its prefix', async () => {
    await expect(makeTempDir('other-')).rejects.toThrow(/must start with 'sibyl-'/);
  });
});

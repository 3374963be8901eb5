import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { modelStoreContract } from '../testing/model-store-contract.ts';
import { FilesystemModelStore, pathInside } from './filesystem-model-store.ts';
import { describe, expect, it } from 'vitest';

modelStoreContract('filesystem', {
  open: async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'sibyl-model-store-'));
    return {
      store: new FilesystemModelStore(root),
      writer: {
        async putVersion(model, version, artifact) {
          const dir = path.join(root, model, String(version));
          await mkdir(dir, { recursive: true });
          if (artifact !== null) await writeFile(path.join(dir, 'model.onnx'), artifact);
        },
        removeVersion: (model, version) => rm(path.join(root, model, String(version)), { recursive: true, force: true }),
        async putConfig(model, text) {
          await mkdir(path.join(root, model), { recursive: true });
          if (text === undefined) await rm(path.join(root, model, 'config.yaml'), { force: true });
          else await writeFile(path.join(root, model, 'config.yaml'), text);
        },
        removeModel: (model) => rm(path.join(root, model), { recursive: true, force: true }),
      },
      close: () => rm(root, { recursive: true, force: true }),
    };
  },
});

describe('pathInside and names (defence in depth)', () => {
  it.each([['..'], ['../etc'], ['a/../../x'], ['/etc/passwd'], ['a\u0000b']])('FilesystemModelStore.model refuses %j with NAME_INVALID', async (name) => {
    const store = new FilesystemModelStore(os.tmpdir());
    await expect(store.model(name)).rejects.toMatchObject({ reason: 'NAME_INVALID' });
    await expect(store.readArtifact(name, 1)).rejects.toMatchObject({ reason: 'NAME_INVALID' });
  });

  it.each([
    ['/repo', ['iris'], true],
    ['/repo', ['iris', '1', 'model.onnx'], true],
    ['/repo', ['..', 'etc'], false],
    ['/repo', ['.'], false],
    ['/repo', ['a', '..', '..', 'repo2'], false],
    ['/repo', ['/etc/passwd'], false],
    ['/repo/', ['x'], true],
  ])('pathInside(%j, %j) stays inside: %s', (root, parts, inside) => {
    if (inside) expect(pathInside(root, ...parts)).toBe(path.join(root, ...parts));
    else expect(() => pathInside(root, ...parts)).toThrow(expect.objectContaining({ reason: 'NAME_INVALID' }));
  });
});

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { modelStoreContract } from '../testing/model-store-contract.ts';
import { FilesystemModelStore } from './filesystem-model-store.ts';

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

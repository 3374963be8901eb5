import { modelStoreContract } from '../testing/model-store-contract.ts';
import { MemoryModelStore } from './memory-model-store.ts';

modelStoreContract('memory', {
  open: async () => {
    const store = new MemoryModelStore();
    return {
      store,
      writer: {
        putVersion: async (model, version, artifact) => store.putVersion(model, version, artifact),
        removeVersion: async (model, version) => store.removeVersion(model, version),
        putConfig: async (model, text) => store.putConfig(model, text),
        removeModel: async (model) => store.removeModel(model),
      },
      close: async () => undefined,
    };
  },
});

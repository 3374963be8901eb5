import { predictionStoreContract } from './prediction-store-contract.ts';
import { MemoryPredictionStore } from './memory-prediction-store.ts';

predictionStoreContract('memory', { open: () => MemoryPredictionStore.open() });

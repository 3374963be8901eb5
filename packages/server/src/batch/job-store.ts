// The prediction store a job's spec names (store: in job.yaml): a SQLite file by default, or
// PostgreSQL. The server passes its own configured store instead.
import type { PredictionStoreSpec } from '../config/batch-job-config.ts';
import { PostgresPredictionStore } from './postgres-prediction-store.ts';
import type { PredictionStore } from './prediction-store.ts';
import { SqlitePredictionStore } from './sqlite-prediction-store.ts';

export function openJobStore(spec: PredictionStoreSpec): Promise<PredictionStore> {
  return spec.kind === 'sqlite' ? SqlitePredictionStore.open(spec.path) : PostgresPredictionStore.open({ url: spec.url });
}

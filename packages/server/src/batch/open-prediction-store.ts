// Opens the prediction store a configuration names: the one place that picks the adapter, shared
// by the server (lookups, hybrid endpoints, jobs inside the server) and `sibyl batch` commands.
import type { PredictionStoreConfig } from '../config/prediction-store-config.ts';
import { PostgresPredictionStore } from './postgres-prediction-store.ts';
import type { PredictionStore } from './prediction-store.ts';
import { SqlitePredictionStore } from './sqlite-prediction-store.ts';

/** @throws Error naming the file or server when the store cannot be opened. */
export function openPredictionStore(config: PredictionStoreConfig): Promise<PredictionStore> {
  return config.backend === 'postgres' ? PostgresPredictionStore.open({ url: config.url, tablePrefix: config.tablePrefix }) : SqlitePredictionStore.open(config.path);
}

/** Where a configuration's store is, for logs and messages (never the password of a URL). */
export function describePredictionStore(config: PredictionStoreConfig): string {
  if (config.backend === 'sqlite') return `sqlite:${config.path}`;
  try {
    const url = new URL(config.url);
    url.password = '';
    return `postgres:${url.toString()} (tables ${config.tablePrefix}*)`;
  } catch {
    return `postgres (tables ${config.tablePrefix}*)`;
  }
}

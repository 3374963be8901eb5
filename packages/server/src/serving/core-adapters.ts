// What the serving core is built from besides its configuration, and how the builder opens the
// adapters that were not given: the state store, the prediction store (both watched, so their
// failures degrade the server's health instead of failing inference) and the response cache.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SibylError } from '@sibyl/protocol';
import type { Logger } from 'pino';
import { openPredictionStore } from '../batch/open-prediction-store.ts';
import type { PredictionStore } from '../batch/prediction-store.ts';
import type { JobSandbox } from '../batch/job-sandbox.ts';
import { redactUrl } from '../batch/redact-url.ts';
import type { NamedConnection } from '../config/batch-job-config.ts';
import { MemoryResponseCache } from '../cache/memory-cache.ts';
import { RedisResponseCache } from '../cache/redis-cache.ts';
import { PREDICTION_STORE_READ_TIMEOUT_MS } from '../config/prediction-store-config.ts';
import type { EndpointConfig } from '../config/endpoint-config.ts';
import type { ServerConfig } from '../config/server-config.ts';
import type { Clock } from '../core/clock.ts';
import { watchedStore, type ComponentHealth } from '../core/component-health.ts';
import type { MachineInfo } from '../core/machine.ts';
import type { Random } from '../core/random.ts';
import type { ObservabilityOptions } from '../observability/observability.ts';
import type { ResponseCache } from '../routing/response-cache.ts';
import type { ModelStore } from '../repository/model-store.ts';
import type { Runtime } from '../runtimes/runtime.ts';
import type { RateLimits } from '../security/rate-limits.ts';
import { SqliteStateStore } from '../state/sqlite-state-store.ts';
import type { StateStore } from '../state/state-store.ts';

export interface SibylCoreAdapters {
  log: Logger;
  /** Default: the system clock. */
  clock?: Clock;
  machine?: MachineInfo;
  /** Default: onnxruntime-node in worker threads. */
  runtime?: Runtime;
  /** The config's endpoints as compileServer compiled them (once); default: compiled by the builder from config.endpoints. */
  endpoints?: ReadonlyMap<string, EndpointConfig>;
  /** Where model versions are read from. Default: the folder config.modelRepository names. */
  modelStore?: ModelStore;
  /** Default: the SQLite file config.stateStore names. */
  stateStore?: StateStore;
  /** Default: the store config.predictionStore names; false: none (no batch jobs, no stored predictions). */
  predictionStore?: PredictionStore | false;
  /** Randomness of traffic policies (arm draws, shadow sampling). Default: seeded from the time. */
  random?: Random;
  /** Default: the backend config.responseCache names; false: no response cache. */
  responseCache?: ResponseCache | false;
  /** Default: the buckets config.rateLimits sets, kept where it says (none set: no limits); false: no rate limits. */
  rateLimits?: RateLimits | false;
  /** Environment for OTEL_* (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Test hooks of observability (sampling randomness, a sink, a span exporter); false: no observers at all. */
  observability?: Pick<ObservabilityOptions, 'random' | 'openSink' | 'tracing'> | false;
  /** Folder of sibyl.yaml: job files given to the batch API resolve against it. Default: the working directory. */
  configDir?: string;
  /** Version of the server package, for metrics and traces. */
  serverVersion?: string;
}

/** The server package's version, read when a core is built (never at import time). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** The prediction store's methods that only read: they get predictionStore.readTimeoutMs. */
const PREDICTION_STORE_READS = new Set(['lookup', 'getJob', 'listJobs', 'committedChunks']);

/** Opens the stores not given (closing what it opened when a later one fails), watched by `health`. */
export async function openCoreStores(config: ServerConfig, adapters: SibylCoreAdapters, clock: Clock, health: ComponentHealth): Promise<{ stateStore: StateStore; predictionStore: PredictionStore | undefined }> {
  const state = adapters.stateStore ?? (await SqliteStateStore.open(config.stateStore));
  let predictions: PredictionStore | undefined;
  try {
    predictions = adapters.predictionStore === false ? undefined : (adapters.predictionStore ?? (await openPredictionStore(config.predictionStore)));
  } catch (err) {
    if (adapters.stateStore === undefined) await state.close();
    throw err;
  }
  const stateStore = watchedStore(state, 'state_store', health, {
    isCallerError: (err) => err instanceof SibylError,
    toError: (err, method) =>
      new SibylError('STATE_STORE_UNAVAILABLE', `the state store could not ${method}: ${(err as Error).message}; what this request changed is not saved and would not survive a restart`, { cause: err }),
  });
  if (predictions === undefined) return { stateStore, predictionStore: undefined };
  const readTimeoutMs = config.predictionStore.readTimeoutMs ?? PREDICTION_STORE_READ_TIMEOUT_MS;
  const predictionStore = watchedStore(predictions, 'prediction_store', health, {
    isCallerError: (err) => err instanceof SibylError,
    timeout: { clock, ms: (method) => (PREDICTION_STORE_READS.has(method) ? readTimeoutMs : undefined) },
    toError: (err, method) => new SibylError('PREDICTION_STORE_UNAVAILABLE', `the prediction store could not ${method}: ${(err as Error).message}`, { cause: err }),
  });
  return { stateStore, predictionStore };
}

/** The response cache the configuration asks for (Redis connects in the background). */
export function responseCacheFor(config: ServerConfig, clock: Clock, log: Logger, health: ComponentHealth): ResponseCache {
  const c = config.responseCache;
  if (c.backend === 'redis') return RedisResponseCache.create({ url: c.redisUrl, keyPrefix: c.redisKeyPrefix, timeoutMs: c.redisTimeoutMs, log, health });
  return new MemoryResponseCache({ maxEntries: c.maxEntries, maxBytes: c.maxBytes, clock });
}

/** The prediction store's file when it is SQLite on disk (jobs in the server commit to it from a worker thread). */
export function sqliteFileOf(config: ServerConfig): { sqliteFile?: string } {
  const store = config.predictionStore;
  return store.backend === 'sqlite' && store.path !== ':memory:' ? { sqliteFile: store.path } : {};
}

/** The server's prediction store as a job spec names it, for the records of jobs run here (never the password of a URL). */
export function jobStoreOf(config: ServerConfig): { sqlite: string } | { postgres: string } {
  const store = config.predictionStore;
  if (store.backend === 'sqlite') return { sqlite: store.path === ':memory:' ? store.path : path.resolve(store.path) };
  return { postgres: store.url === '' ? '(the PG* environment variables)' : redactUrl(store.url) };
}

/** Reject files of jobs sent to the server without `rejects`: `rejects/` beside the state store (under `.sibyl/` by default), never the working directory itself. */
export function rejectsDirOf(config: ServerConfig): string {
  return path.resolve(config.stateStore === ':memory:' ? '.sibyl' : path.dirname(config.stateStore), 'rejects');
}

/**
 * The management sandbox of batch jobs sent over the API (see batch/job-sandbox.ts): the source
 * roots and job folder (relative to the folder of sibyl.yaml), the data directory (the state
 * store's folder), and the server's own files that are never sources.
 */
export function jobSandboxOf(config: ServerConfig, configDir: string): JobSandbox {
  const dataDir = path.dirname(rejectsDirOf(config));
  const privateFiles = [config.stateStore === ':memory:' ? undefined : path.resolve(config.stateStore), sqliteFileOf(config).sqliteFile, predictionLogFileOf(config)].filter((f): f is string => f !== undefined);
  return {
    sourceRoots: config.sandbox.sourceRoots.map((root) => path.resolve(configDir, root)),
    jobFileRoots: [path.resolve(configDir, 'jobs')],
    dataDir,
    privateFiles: privateFiles.map((f) => path.resolve(f)),
  };
}

/** The connections a job may name, their SQLite files made absolute against the folder of sibyl.yaml. */
export function jobConnectionsOf(config: ServerConfig, configDir: string): Record<string, NamedConnection> {
  return Object.fromEntries(Object.entries(config.sandbox.connections).map(([name, c]) => [name, 'sqlite' in c ? { sqlite: path.resolve(configDir, c.sqlite) } : { postgres: c.postgres }]));
}

/** The prediction log's file when its sink is a local file. */
function predictionLogFileOf(config: ServerConfig): string | undefined {
  const log = config.predictionLog;
  if (log.sink === 'postgres') return undefined;
  return path.resolve(log.path === '' ? `sibyl-predictions.${log.sink}` : log.path);
}

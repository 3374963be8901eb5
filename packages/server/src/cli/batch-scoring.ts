// What `sibyl batch run` scores with, in this process: the serving core, built by the same
// builder as the server's (serving/sibyl-core.ts) — ONNX sessions in worker threads, dynamic
// batching, the same validation and endpoints — but with no listener, loading only the models the
// job needs (explicit model control), with no request deadline, an in-memory state store, no
// prediction store of its own (the job writes its own), no response cache and no observers.
import type { Logger } from 'pino';
import type { BatchTarget } from '../config/batch-job-config.ts';
import type { EndpointConfig } from '../config/endpoint-config.ts';
import { serverConfigDefaults, type ServerConfig } from '../config/server-config.ts';
import { routerScorer, type BatchScorer } from '../batch/batch-scorer.ts';
import type { Clock } from '../core/clock.ts';
import type { ModelManager } from '../models/model-manager.ts';
import { endpointTargets } from '../routing/traffic/registry.ts';
import type { Runtime } from '../runtimes/runtime.ts';
import { createSibylCore } from '../serving/sibyl-core.ts';

export interface LocalScoring {
  scorer: BatchScorer;
  models: ModelManager;
  close(): Promise<void>;
}

/** The serving core's configuration for scoring one job's target. */
function scoringConfig(modelRepository: string, endpoints: ReadonlyMap<string, EndpointConfig>, target: BatchTarget): ServerConfig {
  const endpoint = target.kind === 'endpoint' ? endpoints.get(target.endpoint) : undefined;
  const needed = target.kind === 'model' ? [target.model] : endpoint === undefined ? [target.endpoint] : [...new Set(endpointTargets(endpoint).map((t) => t.model))];
  return {
    ...serverConfigDefaults(modelRepository),
    // Compiled already (compileServer): handed to the builder as they are, never compiled again.
    endpoints: {},
    modelControlMode: 'explicit',
    loadModels: needed,
    requestTimeoutMs: 0,
    stateStore: ':memory:',
    maxLoadedModels: 0,
    memoryBudgetBytes: 0,
    modelLoadConcurrency: 2,
    drainTimeoutMs: 30_000,
    repositoryPollIntervalMs: 5000,
    schedules: {},
  };
}

export async function openLocalScoring(options: {
  modelRepository: string;
  /** Compiled once by compileServer (resolveScoringConfig). */
  endpoints: ReadonlyMap<string, EndpointConfig>;
  target: BatchTarget;
  clock: Clock;
  log: Logger;
  runtime?: Runtime;
}): Promise<LocalScoring> {
  const { clock, log, target } = options;
  const config = scoringConfig(options.modelRepository, options.endpoints, target);
  const core = await createSibylCore(config, {
    log,
    clock,
    runtime: options.runtime,
    predictionStore: false,
    responseCache: false,
    observability: false,
    endpoints: options.endpoints,
  });
  await core.start();
  return {
    scorer: routerScorer(core.router, core.models, clock, target),
    models: core.models,
    async close() {
      await core.release(0);
      await core.closeStores();
    },
  };
}

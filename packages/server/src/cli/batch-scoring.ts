// What `sibyl batch run` scores with, in this process: the server's own model manager,
// inference service, endpoints and router over the model repository — ONNX sessions in worker
// threads, dynamic batching, the same validation — but no listener, loading only the models the
// job needs (explicit model control), with no request deadline and an in-memory state store.
import type { Logger } from 'pino';
import type { BatchTarget } from '../config/batch-job-config.ts';
import type { EndpointConfig } from '../config/endpoint-config.ts';
import { routerScorer, type BatchScorer } from '../batch/batch-scorer.ts';
import type { Clock } from '../core/clock.ts';
import { readMachineInfo } from '../core/machine.ts';
import { seededRandom } from '../core/random.ts';
import { ModelManager } from '../models/model-manager.ts';
import { Endpoints } from '../routing/endpoints.ts';
import { InferenceService } from '../routing/inference-service.ts';
import { Router } from '../routing/router.ts';
import type { RunTarget } from '../routing/target.ts';
import { endpointTargets } from '../routing/traffic/registry.ts';
import { OnnxRuntime } from '../runtimes/onnx/onnx-runtime.ts';
import type { Runtime } from '../runtimes/runtime.ts';
import { SqliteStateStore } from '../state/sqlite-state-store.ts';

export interface LocalScoring {
  scorer: BatchScorer;
  models: ModelManager;
  close(): Promise<void>;
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
  const configured = options.endpoints;
  const endpoint = target.kind === 'endpoint' ? configured.get(target.endpoint) : undefined;
  const needed = target.kind === 'model' ? [target.model] : endpoint === undefined ? [target.endpoint] : [...new Set(endpointTargets(endpoint).map((t) => t.model))];
  const stateStore = await SqliteStateStore.open(':memory:');
  const models = new ModelManager({
    repository: options.modelRepository,
    runtime: options.runtime ?? new OnnxRuntime(),
    clock,
    machine: readMachineInfo(),
    log,
    store: stateStore,
    controlMode: 'explicit',
    pollIntervalMs: 5000,
    startupModels: needed,
    limits: { maxLoadedVersions: 0, memoryBudgetBytes: 0 },
    loadConcurrency: 2,
    drainTimeoutMs: 30_000,
  });
  const inference = new InferenceService(models, { clock, requestTimeoutMs: 0 });
  const run: RunTarget = (t, request, context) => inference.infer(t.model, { version: t.version === undefined ? undefined : String(t.version), label: t.label }, request, context.signal);
  const endpoints = new Endpoints({ configured, store: stateStore, models, clock, random: seededRandom(Date.now()), log, run });
  await endpoints.load();
  await models.start();
  endpoints.checkTargets();
  const router = new Router(inference, endpoints, models, clock);
  return {
    scorer: routerScorer(router, models, target),
    models,
    async close() {
      endpoints.close();
      await models.close(0);
      await stateStore.close();
    },
  };
}

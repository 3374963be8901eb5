// What scores a batch job's rows: one function from an InferRequest to its InferResponse, and the
// signature the rows are mapped to. In the server and the CLI it is the Router's infer (so a job
// may target an endpoint, whose traffic policy picks the versions, exactly as for an online
// request); tests may pass any function.
import { randomUUID } from 'node:crypto';
import type { InferRequest, InferResponse, TensorMetadata } from '@sibyl/protocol';
import type { BatchTarget } from '../config/batch-job-config.ts';
import type { Cancellation } from '../core/cancellation.ts';
import type { Clock } from '../core/clock.ts';
import type { ModelManager } from '../models/model-manager.ts';
import type { Router } from '../routing/router.ts';

export interface ScorerSignature {
  inputs: readonly TensorMetadata[];
  outputs: readonly TensorMetadata[];
  /** 0: the model does not batch. */
  maxBatchSize: number;
  /** The maxBatchSize the model's config.yaml sets, if it sets one. */
  configuredMaxBatchSize?: number;
  /** Loaded instances (how many requests run at once). */
  instanceCount: number;
}

export interface BatchScorer {
  /** The signature of the target (an endpoint: of its primary target), loading the model if it must. */
  signature(): Promise<ScorerSignature>;
  /** Scores one request; ownership of its tensors passes to the scorer. Rejects with SibylError. */
  infer(request: InferRequest, signal?: Cancellation): Promise<InferResponse>;
}

/**
 * A scorer over the server's (or the CLI's) router: models and endpoints alike. Each request is
 * its own request context (entry `batch`), arriving when it is handed to the scorer.
 */
export function routerScorer(router: Router, models: ModelManager, clock: Clock, target: BatchTarget): BatchScorer {
  const name = target.kind === 'model' ? target.model : target.endpoint;
  const selector = target.kind === 'model' ? { version: target.version === undefined ? undefined : String(target.version), label: target.label } : {};
  return {
    async signature() {
      const primary = router.targetOf(name, selector);
      const acquired = models.acquire(primary.model, primary.selector);
      const served = acquired instanceof Promise ? await acquired : acquired;
      return {
        inputs: served.signature.inputs,
        outputs: served.signature.outputs,
        maxBatchSize: served.signature.maxBatchSize,
        ...(served.config?.maxBatchSize === undefined ? {} : { configuredMaxBatchSize: served.config.maxBatchSize }),
        instanceCount: Math.max(1, served.instanceCount),
      };
    },
    infer: (request, signal) => router.infer(name, selector, request, { requestId: request.id ?? randomUUID(), arrivalMs: clock.now(), signal, entry: 'batch' }),
  };
}

// The one path every frontend (and, later, batch jobs and streams) takes to a prediction:
// resolve the version, validate the request against its signature, queue it, shape the answer.
// Endpoints, traffic policies and caching will sit here (DESIGN.md, routing).
import type { InferRequest, InferResponse } from '@sibyl/protocol';
import type { ModelManager } from '../models/model-manager.ts';
import type { ServedVersion } from '../models/served-version.ts';
import { validateInferRequest } from '../models/validate-request.ts';

export class InferenceService {
  private inFlight = 0;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(private readonly models: ModelManager) {}

  /** Requests between infer() and its answer. */
  get pending(): number {
    return this.inFlight;
  }

  /** The version a request for `model` (and `version`) goes to. See ModelManager.resolve. */
  target(model: string, version?: string): ServedVersion {
    return this.models.resolve(model, version);
  }

  /**
   * Runs one inference request. Ownership of the request's tensor buffers passes to the service.
   * @throws SibylError: NOT_FOUND, INVALID_ARGUMENT (the request does not fit the model),
   *   UNAVAILABLE (not ready), INTERNAL (the runtime failed).
   */
  async infer(model: string, version: string | undefined, request: InferRequest, signal?: AbortSignal): Promise<InferResponse> {
    this.inFlight++;
    try {
      const served = this.models.resolve(model, version);
      const { outputNames } = validateInferRequest(request, served.signature, model);
      const outputs = await served.execute(request.inputs, outputNames, signal);
      const response: InferResponse = { model_name: served.name, model_version: String(served.version), outputs };
      if (request.id !== undefined) response.id = request.id;
      return response;
    } finally {
      if (--this.inFlight === 0) for (const fn of this.idleWaiters.splice(0)) fn();
    }
  }

  /** Resolves when no request is in flight. */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

// What frontends call: a name is an endpoint (its traffic policy answers) or a model (the
// inference service answers). An endpoint may have a model's name, so existing clients of the
// model get the endpoint's policy (a canary, a shadow) unchanged; a request that names a version
// or label goes to the model itself.
import { randomUUID } from 'node:crypto';
import { SibylError, type InferRequest, type InferResponse } from '@sibyl/protocol';
import type { Cancellation } from '../core/cancellation.ts';
import type { ModelManager, VersionSelector } from '../models/model-manager.ts';
import type { Clock } from '../core/clock.ts';
import type { Endpoints } from './endpoints.ts';
import type { InferContext } from './inference-observer.ts';
import type { InferenceService } from './inference-service.ts';

const addressesVersion = (s: VersionSelector): boolean => (s.version !== undefined && s.version !== '') || (s.label !== undefined && s.label !== '');

export class Router {
  constructor(
    private readonly inference: InferenceService,
    readonly endpoints: Endpoints,
    private readonly models: ModelManager,
    private readonly clock: Clock,
  ) {}

  /**
   * Answers a request for `name`: through its endpoint when it has one and the request names no
   * version or label, else through the model. See InferenceService.infer for ownership and errors.
   */
  infer(name: string, selector: VersionSelector, request: InferRequest, signal?: Cancellation, context?: { header?: (name: string) => string | undefined; observed?: InferContext }): Promise<InferResponse> {
    const endpoint = this.endpoints.get(name);
    if (endpoint === undefined) return this.inference.infer(name, selector, request, signal, context?.observed);
    if (!addressesVersion(selector)) {
      // Until every frontend builds the request context itself (issue 14), it is made up here.
      const requestId = request.id ?? context?.observed?.requestId ?? randomUUID();
      return endpoint.infer(request, { requestId, arrivalMs: this.clock.now(), entry: 'http', signal, header: context?.header, trace: context?.observed?.trace });
    }
    if (!this.models.models.has(name)) return Promise.reject(this.notAModel(name));
    return this.inference.infer(name, selector, request, signal, context?.observed);
  }

  /** Whether requests for `name` may carry no inputs: it is a hybrid endpoint, which answers by key. */
  answersByKey(name: string, selector: VersionSelector): boolean {
    return !addressesVersion(selector) && this.endpoints.get(name)?.answersByKey === true;
  }

  /**
   * The model (and version or label) whose metadata and readiness `name` stands for: an
   * endpoint's first target (the stable arm of a canary, the active colour, the first stage),
   * else the model itself.
   */
  targetOf(name: string, selector: VersionSelector): { model: string; selector: VersionSelector } {
    const endpoint = this.endpoints.get(name);
    if (endpoint === undefined) return { model: name, selector };
    if (addressesVersion(selector)) {
      if (!this.models.models.has(name)) throw this.notAModel(name);
      return { model: name, selector };
    }
    const target = endpoint.primaryTarget();
    return { model: target.model, selector: { version: target.version === undefined ? undefined : String(target.version), label: target.label } };
  }

  private notAModel(name: string): SibylError {
    return new SibylError('ENDPOINT_ACTION_INVALID', `'${name}' is an endpoint, not a model: it has no versions of its own; address a version through the model it routes to`);
  }
}

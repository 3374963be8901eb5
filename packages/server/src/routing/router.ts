// What frontends call: a name is an endpoint (its traffic policy answers) or a model (the
// inference service answers). An endpoint may have a model's name, so existing clients of the
// model get the endpoint's policy (a canary, a shadow) unchanged; a request that names a version
// or label goes to the model itself.
import { SibylError, type InferRequest, type InferResponse } from '@sibyl/protocol';
import type { RequestContext } from '../core/request-context.ts';
import type { ModelManager, VersionSelector } from '../models/model-manager.ts';
import type { Endpoints } from './endpoints.ts';
import type { InferenceService } from './inference-service.ts';

const addressesVersion = (s: VersionSelector): boolean => (s.version !== undefined && s.version !== '') || (s.label !== undefined && s.label !== '');

export class Router {
  constructor(
    private readonly inference: InferenceService,
    readonly endpoints: Endpoints,
    private readonly models: ModelManager,
  ) {}

  /**
   * Answers a request for `name`: through its endpoint when it has one and the request names no
   * version or label, else through the model. The context goes with it through the endpoint's
   * targets, fallbacks and shadows. See InferenceService.infer for ownership and errors.
   */
  infer(name: string, selector: VersionSelector, request: InferRequest, context: RequestContext): Promise<InferResponse> {
    const endpoint = this.endpoints.answering(name);
    if (endpoint === undefined) return this.inference.infer(name, selector, request, context);
    if (!addressesVersion(selector)) return endpoint.infer(request, context);
    if (!this.models.has(name)) return Promise.reject(this.notAModel(name));
    return this.inference.infer(name, selector, request, context);
  }

  /** Whether requests for `name` may carry no inputs: it is a hybrid endpoint, which answers by key. */
  answersByKey(name: string, selector: VersionSelector): boolean {
    return !addressesVersion(selector) && this.endpoints.answering(name)?.answersByKey === true;
  }

  /**
   * The model (and version or label) whose metadata and readiness `name` stands for: an
   * endpoint's first target (the stable arm of a canary, the active colour, the first stage),
   * else the model itself.
   */
  targetOf(name: string, selector: VersionSelector): { model: string; selector: VersionSelector } {
    const endpoint = this.endpoints.answering(name);
    if (endpoint === undefined) return { model: name, selector };
    if (addressesVersion(selector)) {
      if (!this.models.has(name)) throw this.notAModel(name);
      return { model: name, selector };
    }
    const target = endpoint.primaryTarget();
    return { model: target.model, selector: { version: target.version === undefined ? undefined : String(target.version), label: target.label } };
  }

  private notAModel(name: string): SibylError {
    return new SibylError('ENDPOINT_ACTION_INVALID', `'${name}' is an endpoint, not a model: it has no versions of its own; address a version through the model it routes to`);
  }
}

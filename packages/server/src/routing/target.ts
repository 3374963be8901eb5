// A target of an endpoint as the rest of routing sees it: how it is called (RunTarget, the model
// call; CallTarget, the call guarded by breaker and fallback), its key in reports and metrics,
// and whose fault its errors are.
import { isServerFault, type InferRequest, type InferResponse, type Tensor } from '@sibyl/protocol';
import type { Target } from '../config/endpoint-config.ts';
import type { RequestContext } from '../core/request-context.ts';

/**
 * Runs a request on a model version (the model path of the inference service). The context is
 * the request's own, passed unchanged to every target, cascade stage and fallback; only a
 * shadow copy goes without the caller's signal.
 */
export type RunTarget = (target: Target, request: InferRequest, context: RequestContext) => Promise<InferResponse>;

/**
 * Errors that are the target's fault, not the caller's: they count against the target. The one
 * classification behind breakers, fallbacks, canary analysis, arm statistics and hybrid serving,
 * derived from the error table of @sibyl/protocol: the server's faults, and an unknown model,
 * version or label, because the endpoint's configuration named it, not the caller. A request the
 * model failed on alone while it answered others (INPUT_REJECTED_BY_MODEL, INVALID_ARGUMENT) is
 * the caller's; RUNTIME_FAILED and INSTANCE_CRASHED (INTERNAL) are the target's.
 */
export function isServerError(err: unknown): boolean {
  return isServerFault(err, { serverChoseTarget: true });
}

export const targetKey = (t: Target): string => `${t.model}${t.version !== undefined ? `:${t.version}` : t.label !== undefined ? `@${t.label}` : ''}`;

export interface CallOutcome {
  response: InferResponse;
  /** Why the fallback answered, when it did. */
  fallback?: string;
  /** The target's own error, when the fallback answered for it. */
  error?: unknown;
}

/**
 * A guarded target call. `spare` is a copy of the inputs for the fallback model (required when
 * it has one: see needsInputCopy). Without a fallback, the target's errors are thrown as they are;
 * the caller's errors (not isServerError) always are.
 */
export type CallTarget = (target: Target, request: InferRequest, context: RequestContext, spare: Tensor[] | undefined) => Promise<CallOutcome>;

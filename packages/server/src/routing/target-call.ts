// One call of an endpoint to one of its targets, guarded by that target's circuit breaker and,
// when the endpoint has one, its fallback: while the target fails, times out or has its breaker
// open, the fallback model or the default response answers, marked as such.
import { SibylError, isServerFault, type InferRequest, type InferResponse, type Tensor } from '@sibyl/protocol';
import type { DefaultOutput, EndpointConfig, Target } from '../config/endpoint-config.ts';
import { CancelToken } from '../core/cancellation.ts';
import type { Clock } from '../core/clock.ts';
import type { RequestContext } from '../core/request-context.ts';
import { copyTensor } from '../core/tensor-rows.ts';
import { breakerAdmits, breakerRecords, closedBreaker, describeBreaker, type BreakerState } from './policies/breaker.ts';
import { defaultOutputs } from './default-response.ts';

/** Runs a request on a model version (the model path of the inference service), with the caller's context. */
export type RunTarget = (target: Target, request: InferRequest, context: RequestContext) => Promise<InferResponse>;

/**
 * Errors that are the target's fault, not the caller's: they count against the target. The one
 * classification behind breakers, fallbacks, canary analysis, arm statistics and hybrid serving
 * (endpoint.ts, hybrid-serving.ts), derived from the error table of @sibyl/protocol: the server's
 * faults, and an unknown model, version or label, because the endpoint's configuration named it,
 * not the caller. A request the model failed on alone while it answered others
 * (INPUT_REJECTED_BY_MODEL, INVALID_ARGUMENT) is the caller's; RUNTIME_FAILED and
 * INSTANCE_CRASHED (INTERNAL) are the target's.
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

export class TargetCaller {
  readonly breakers = new Map<string, BreakerState>();
  fallbacks = 0;
  readonly fallbackReasons = new Map<string, number>();

  constructor(
    private readonly config: EndpointConfig,
    private readonly clock: Clock,
    private readonly run: RunTarget,
  ) {}

  /** Whether the endpoint can answer for a failed target (so inputs must be kept for it). */
  get hasFallback(): boolean {
    return this.config.fallback !== undefined && (this.config.fallback.target !== undefined || this.config.fallback.response !== undefined);
  }

  /** Whether a fallback model needs its own copy of the inputs. */
  get needsInputCopy(): boolean {
    return this.config.fallback?.target !== undefined;
  }

  /**
   * Calls `target`. `spare` is a copy of the inputs for the fallback model (required when it has
   * one). Without a fallback, the target's errors are thrown as they are.
   */
  async call(target: Target, request: InferRequest, context: RequestContext, spare: Tensor[] | undefined): Promise<CallOutcome> {
    const key = targetKey(target);
    const limits = this.config.breaker;
    const now = this.clock.now();
    const admitted = breakerAdmits(this.breakers.get(key) ?? closedBreaker(), limits, now);
    this.breakers.set(key, admitted.state);
    if (!admitted.admit) {
      const why = `the circuit breaker of ${key} is ${describeBreaker(admitted.state, limits, now)}`;
      const error = new SibylError('MODEL_NOT_READY', `${why}; the endpoint has no fallback`);
      if (!this.hasFallback) throw error;
      return this.answerForTarget(request, context, spare, why, error);
    }
    const timeoutMs = this.config.fallback?.timeoutMs;
    try {
      const response = timeoutMs === undefined || !this.hasFallback ? await this.run(target, request, context) : await this.runWithin(target, request, context, timeoutMs);
      this.breakers.set(key, breakerRecords(this.breakers.get(key)!, limits, this.clock.now(), true, admitted.probe));
      return { response };
    } catch (err) {
      if (!isServerError(err)) {
        // The caller's mistake says nothing about the target; a probe that got one is retried.
        if (admitted.probe) this.breakers.set(key, { ...this.breakers.get(key)!, probing: false });
        throw err;
      }
      this.breakers.set(key, breakerRecords(this.breakers.get(key)!, limits, this.clock.now(), false, admitted.probe));
      if (!this.hasFallback) throw err;
      const message = err instanceof Error ? err.message : String(err);
      return this.answerForTarget(request, context, spare, `${key} failed: ${message}`, err);
    }
  }

  private async runWithin(target: Target, request: InferRequest, context: RequestContext, timeoutMs: number): Promise<InferResponse> {
    const token = new CancelToken();
    const onAbort = (): void => token.cancel();
    const signal = context.signal;
    signal?.addEventListener('abort', onAbort, { once: true });
    let cancelTimer: (() => void) | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      cancelTimer = this.clock.setTimeout(() => {
        token.cancel(); // a request still queued is dropped; one running finishes, unanswered
        reject(new SibylError('DEADLINE_EXCEEDED', `${targetKey(target)} took longer than the fallback's timeoutMs (${timeoutMs} ms)`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.run(target, request, { ...context, signal: token }), timedOut]);
    } finally {
      cancelTimer?.();
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private async answerForTarget(request: InferRequest, context: RequestContext, spare: Tensor[] | undefined, reason: string, error: unknown): Promise<CallOutcome> {
    const fallback = this.config.fallback!;
    this.fallbacks++;
    const kind = reason.includes('circuit breaker') ? 'breaker open' : reason.includes('fallback\'s timeoutMs') ? 'timeout' : 'failed';
    this.fallbackReasons.set(kind, (this.fallbackReasons.get(kind) ?? 0) + 1);
    if (fallback.target !== undefined && spare !== undefined) {
      try {
        const response = await this.run(fallback.target, { ...request, inputs: spare.map(copyTensor) }, context);
        return { response, fallback: reason, error };
      } catch (fallbackError) {
        if (fallback.response === undefined) {
          throw new SibylError('MODEL_NOT_READY', `${reason}; the fallback ${targetKey(fallback.target)} failed too: ${(fallbackError as Error).message}`);
        }
      }
    }
    return { response: { model_name: 'default', outputs: defaultOutputs(fallback.response as readonly DefaultOutput[]) }, fallback: reason, error };
  }
}

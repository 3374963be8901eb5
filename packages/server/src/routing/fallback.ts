// An endpoint's fallback around its target calls: it bounds a call by timeoutMs, and answers for
// a target that failed, timed out or had its breaker open — with the fallback model, else (or
// when that fails too) the default response. Every answer it gives is counted by cause.
import { SibylError, type InferRequest, type InferResponse, type Tensor } from '@sibyl/protocol';
import type { DefaultOutput, EndpointConfig, Target } from '../config/endpoint-config.ts';
import { CancelToken } from '../core/cancellation.ts';
import type { Clock } from '../core/clock.ts';
import type { RequestContext } from '../core/request-context.ts';
import { copyTensor } from '../core/tensor-rows.ts';
import type { FailedAttempt } from './breaker-guard.ts';
import { defaultOutputs } from './default-response.ts';
import { targetKey, type CallOutcome, type RunTarget } from './target.ts';

/** Why the fallback answered (the `reason` label of sibyl_endpoint_fallbacks_total). */
export type FallbackCause = 'breaker open' | 'timeout' | 'failed';

export interface FallbackSnapshot {
  readonly answered: number;
  /** Answers by cause, in the order each cause first happened. */
  readonly byReason: readonly { readonly reason: FallbackCause; readonly count: number }[];
}

type FallbackConfig = NonNullable<EndpointConfig['fallback']>;

export class Fallback {
  private answered = 0;
  private readonly byReason = new Map<FallbackCause, number>();
  /** The errors this fallback's own timer raised: a target's own DEADLINE_EXCEEDED is a failure, not a timeout. */
  private readonly timeouts = new WeakSet<object>();

  constructor(
    private readonly config: FallbackConfig,
    private readonly clock: Clock,
    private readonly run: RunTarget,
  ) {}

  get needsInputCopy(): boolean {
    return this.config.target !== undefined;
  }

  /** Runs the target, bounded by timeoutMs when set: a request still queued is dropped, one running finishes unanswered. */
  async within(target: Target, request: InferRequest, context: RequestContext): Promise<InferResponse> {
    const timeoutMs = this.config.timeoutMs;
    if (timeoutMs === undefined) return this.run(target, request, context);
    const token = new CancelToken();
    const signal = context.signal;
    const onAbort = (): void => token.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    let cancelTimer: (() => void) | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      cancelTimer = this.clock.setTimeout(() => {
        token.cancel();
        const error = new SibylError('DEADLINE_EXCEEDED', `${targetKey(target)} took longer than the fallback's timeoutMs (${timeoutMs} ms)`);
        this.timeouts.add(error);
        reject(error);
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.run(target, request, { ...context, signal: token }), timedOut]);
    } finally {
      cancelTimer?.();
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Answers for the target of `failed`: the fallback model on `spare` (a copy of the inputs),
   * else the default response. @throws SibylError MODEL_NOT_READY when the model fails and
   * there is no default response.
   */
  async answer(request: InferRequest, context: RequestContext, spare: Tensor[] | undefined, failed: FailedAttempt): Promise<CallOutcome> {
    const { why, error } = failed;
    const cause: FallbackCause = failed.refused ? 'breaker open' : typeof error === 'object' && error !== null && this.timeouts.has(error) ? 'timeout' : 'failed';
    this.answered++;
    this.byReason.set(cause, (this.byReason.get(cause) ?? 0) + 1);
    const { target, response } = this.config;
    if (target !== undefined && spare !== undefined) {
      try {
        return { response: await this.run(target, { ...request, inputs: spare.map(copyTensor) }, context), fallback: why, error };
      } catch (fallbackError) {
        if (response === undefined) throw new SibylError('MODEL_NOT_READY', `${why}; the fallback ${targetKey(target)} failed too: ${(fallbackError as Error).message}`);
      }
    }
    return { response: { model_name: 'default', outputs: defaultOutputs(response as readonly DefaultOutput[]) }, fallback: why, error };
  }

  snapshot(): FallbackSnapshot {
    return { answered: this.answered, byReason: [...this.byReason].map(([reason, count]) => ({ reason, count })) };
  }
}

// One call of an endpoint to one of its targets, as the traffic policies see it: the model call
// (RunTarget) wrapped by the target's circuit breaker (breaker-guard.ts) and, when the endpoint
// has one, its fallback (fallback.ts): while the target fails, times out or has its breaker
// open, the fallback model or the default response answers, marked as such.
import type { EndpointConfig } from '../config/endpoint-config.ts';
import type { Clock } from '../core/clock.ts';
import { BreakerGuard, type BreakerSnapshot } from './breaker-guard.ts';
import { Fallback, type FallbackSnapshot } from './fallback.ts';
import type { CallTarget, RunTarget } from './target.ts';

export interface TargetCallSnapshot {
  readonly fallback: FallbackSnapshot;
  /** Every target called so far, by targetKey, in the order first called. */
  readonly breakers: readonly BreakerSnapshot[];
}

/** The breaker and fallback of one endpoint around its model calls. */
export class TargetCaller {
  private readonly breaker: BreakerGuard;
  private readonly fallback: Fallback | undefined;

  constructor(config: EndpointConfig, clock: Clock, private readonly run: RunTarget) {
    this.breaker = new BreakerGuard(config.breaker, clock);
    const fb = config.fallback;
    this.fallback = fb !== undefined && (fb.target !== undefined || fb.response !== undefined) ? new Fallback(fb, clock, run) : undefined;
  }

  /** Whether a fallback model needs its own copy of the inputs. */
  get needsInputCopy(): boolean {
    return this.fallback?.needsInputCopy ?? false;
  }

  readonly call: CallTarget = async (target, request, context, spare) => {
    const fallback = this.fallback;
    const attempt = await this.breaker.attempt(target, () => (fallback === undefined ? this.run(target, request, context) : fallback.within(target, request, context)));
    if (attempt.ok) return { response: attempt.response };
    if (fallback === undefined) throw attempt.error;
    return fallback.answer(request, context, spare, attempt);
  };

  snapshot(): TargetCallSnapshot {
    return { fallback: this.fallback?.snapshot() ?? { answered: 0, byReason: [] }, breakers: this.breaker.snapshot() };
  }
}

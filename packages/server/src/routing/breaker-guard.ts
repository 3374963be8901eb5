// The circuit breaker of each target of an endpoint around its calls: an open breaker refuses
// the call at once; every answer and server error is recorded (routing/policies/breaker.ts
// decides). The caller's errors say nothing about the target and pass through untouched.
import { SibylError, type InferResponse } from '@sibyl/protocol';
import type { EndpointConfig, Target } from '../config/endpoint-config.ts';
import type { Clock } from '../core/clock.ts';
import { breakerAdmits, breakerRecords, closedBreaker, describeBreaker, type BreakerMode, type BreakerState } from './policies/breaker.ts';
import { isServerError, targetKey } from './target.ts';

/** A call the target did not answer, for the fallback: `why` names the target and what happened. */
export interface FailedAttempt {
  readonly ok: false;
  /** The breaker refused the call (it never reached the target). */
  readonly refused: boolean;
  readonly why: string;
  readonly error: unknown;
}

export type Attempt = { readonly ok: true; readonly response: InferResponse } | FailedAttempt;

export interface BreakerSnapshot {
  /** targetKey of the target. */
  readonly target: string;
  readonly mode: BreakerMode;
}

export class BreakerGuard {
  private readonly breakers = new Map<string, BreakerState>();

  constructor(
    private readonly limits: EndpointConfig['breaker'],
    private readonly clock: Clock,
  ) {}

  /**
   * Calls `run` for `target` unless its breaker is open. Resolves with the answer or the
   * target's failure (a server error); @throws the caller's errors as they are.
   */
  async attempt(target: Target, run: () => Promise<InferResponse>): Promise<Attempt> {
    const key = targetKey(target);
    const limits = this.limits;
    const now = this.clock.now();
    const admitted = breakerAdmits(this.breakers.get(key) ?? closedBreaker(), limits, now);
    this.breakers.set(key, admitted.state);
    if (!admitted.admit) {
      const why = `the circuit breaker of ${key} is ${describeBreaker(admitted.state, limits, now)}`;
      return { ok: false, refused: true, why, error: new SibylError('MODEL_NOT_READY', `${why}; the endpoint has no fallback`) };
    }
    try {
      const response = await run();
      this.breakers.set(key, breakerRecords(this.breakers.get(key)!, limits, this.clock.now(), true, admitted.probe));
      return { ok: true, response };
    } catch (err) {
      if (!isServerError(err)) {
        // The caller's mistake says nothing about the target; a probe that got one is retried.
        if (admitted.probe) this.breakers.set(key, { ...this.breakers.get(key)!, probing: false });
        throw err;
      }
      this.breakers.set(key, breakerRecords(this.breakers.get(key)!, limits, this.clock.now(), false, admitted.probe));
      const message = err instanceof Error ? err.message : String(err);
      return { ok: false, refused: false, why: `${key} failed: ${message}`, error: err };
    }
  }

  snapshot(): BreakerSnapshot[] {
    return [...this.breakers].map(([target, b]) => ({ target, mode: b.mode }));
  }
}

// The seam between the generic endpoint executor (routing/endpoint.ts) and one traffic policy
// kind. Each kind is one file in this folder exporting a TrafficPolicyModule, registered in
// registry.ts; the executor knows nothing of any kind. A module's pure decisions (which arm,
// which target) take the clock's time and the random source as arguments, so they are
// table-tested without an endpoint.
import type { EndpointReportJson } from '@sibyl/protocol';
import type { InferRequest, InferResponse, Parameters } from '@sibyl/protocol';
import type { Logger } from 'pino';
import type { StickyKey, Target, TrafficPolicy } from '../../config/endpoint-config.ts';
import type { Clock } from '../../core/clock.ts';
import type { Random } from '../../core/random.ts';
import type { RequestContext } from '../../core/request-context.ts';
import type { CanaryState } from '../policies/canary.ts';
import type { PredictionLookup } from '../stored-prediction.ts';
import type { CallTarget } from '../target.ts';

/** What an endpoint keeps across restarts (the state store holds it; its shape is persisted). */
/** The policy's own section of the endpoint report (GET /v1/endpoints/{e}). */
export type PolicyReportJson = Partial<Pick<EndpointReportJson, 'canary' | 'blueGreen' | 'cascade' | 'hybrid'>>;

export interface EndpointState {
  canary?: CanaryState;
  /** Blue-green: the colour switched to through the API. */
  active?: 'blue' | 'green';
}

export type PolicyOf<K extends TrafficPolicy['kind']> = Extract<TrafficPolicy, { kind: K }>;

/** How one request ended for an arm: a server error is the target's fault (isServerError), a client error the caller's. */
export type ArmOutcome = 'ok' | 'server-error' | 'client-error';

/** An arm and the target it sends the request to. */
export interface Choice {
  readonly arm: string;
  readonly target: Target;
}

/** What a policy gives the executor for one request. */
export interface PolicyAnswer {
  readonly response: InferResponse;
  /** The arm that answered (`sibyl_variant`, and the arm outcome feedback goes to). */
  readonly variant: string;
  /** The response's parameters merged with the policy's own (sibyl_fallback, sibyl_cascade_stage, …). */
  readonly parameters: Parameters;
}

/** What the executor lends a policy while it answers one request. */
export interface PolicyIo {
  /** A target call guarded by the endpoint's breaker and fallback (see target-call.ts). */
  readonly call: CallTarget;
  /** Whether the fallback has a model, which needs its own copy of the inputs (`spare` of call). */
  readonly needsInputCopy: boolean;
  /**
   * Counts an arm's outcome. Latency runs from `startedMs` (default: the request's start, the
   * executor's clock). `judged: false` counts it for the arm only, not for the policy's own
   * analysis (a canary's retry on the stable arm).
   */
  count(arm: string, outcome: ArmOutcome, options?: { startedMs?: number; judged?: boolean }): void;
}

/** What a policy may use besides the request: injected time, randomness, persistence. */
export interface PolicyEnv {
  readonly endpoint: string;
  readonly clock: Clock;
  readonly random: Random;
  readonly log: Logger;
  /** Where hybrid endpoints read stored predictions. */
  readonly predictions?: PredictionLookup;
  /** The endpoint's persisted state as restored (a module keeps its own copy from here on). */
  readonly state: EndpointState;
  /** Persists the state; called after every change of it. */
  saveState(state: EndpointState): void;
  /** Makes the candidate the stable version when a canary is promoted (see Endpoints). */
  promote(stable: Target, candidate: Target): Promise<string>;
}

/** Operator actions on a canary (PUT /v1/endpoints/{e}/canary/{action}). */
export type CanaryAction = 'promote' | 'rollback' | 'pause' | 'resume';

/** A policy compiled for one endpoint: owns its run-time state (timers, stage statistics). */
export interface CompiledPolicy<S> {
  /** The target that stands for the endpoint in its metadata and readiness. */
  primaryTarget(): Target;
  /** Answers one request, calling targets through `io.call` and counting through `io.count`. */
  answer(request: InferRequest, context: RequestContext, io: PolicyIo): Promise<PolicyAnswer>;
  /** Told of every judged outcome, after the arm has counted it. */
  observe?(arm: string, outcome: ArmOutcome, latencyMs: number): void;
  /** The policy's own state for metrics, the report and the CLI; a fresh value, never a live view. */
  snapshot(): S;
  /** Canary operator actions; absent when the policy has no canary. */
  canaryAction?(action: CanaryAction, reason: string): CanaryState;
  /** Blue-green: makes `colour` (default: the other) the one that answers; absent for other kinds. */
  switchTo?(colour: 'blue' | 'green' | undefined): 'blue' | 'green';
  close(): void;
}

/** One traffic policy kind. */
export interface TrafficPolicyModule<K extends TrafficPolicy['kind'], S> {
  readonly kind: K;
  /** Whether a request may carry no inputs: its answer is found by a key (hybrid). */
  readonly answersByKey: boolean;
  /** The targets the policy may send requests to (to keep them loaded), in a stable order. */
  targets(policy: PolicyOf<K>): readonly Target[];
  /** The arms in report order; the first is the control of the report's significance tests. */
  arms(policy: PolicyOf<K>): readonly string[];
  /** Compiles the validated policy into its run-time form for one endpoint. */
  compile(policy: PolicyOf<K>, env: PolicyEnv): CompiledPolicy<S>;
  /** The policy's section of the endpoint report (the JSON of GET /v1/endpoints/{e}); undefined adds none. */
  report(snapshot: S): PolicyReportJson | undefined;
}

/** The value of a sticky key in the request (header or parameter), as text. */
export function stickyKeyOf(key: StickyKey | undefined, request: InferRequest, context: RequestContext): string | undefined {
  if (key === undefined) return undefined;
  const value = key.header !== undefined ? context.header?.(key.header) : request.parameters?.[key.parameter!];
  return value === undefined ? undefined : String(value);
}

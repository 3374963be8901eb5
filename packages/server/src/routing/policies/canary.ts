// The canary's progress as pure functions: how much traffic the candidate gets, and, from what
// both arms did in the current stage, whether to hold, advance, promote or roll back.
import type { CanaryAnalysisLimits } from '../../config/endpoint-config.ts';

export type CanaryStatus = 'running' | 'paused' | 'promoted' | 'rolled-back';

export interface CanaryTransition {
  /** Wall-clock time, ms since the epoch. */
  atMs: number;
  from: string;
  to: string;
  reason: string;
}

/** What survives a restart (the state store keeps it). */
export interface CanaryState {
  status: CanaryStatus;
  /** Index into the stages. */
  stage: number;
  /** Wall-clock start of the current stage, ms since the epoch. */
  stageStartedMs: number;
  history: CanaryTransition[];
}

/** What an arm did in the current stage. */
export interface ArmWindow {
  requests: number;
  /** Server errors (the candidate's fault, not the caller's). */
  errors: number;
  /** undefined when it answered nothing. */
  p99Ms: number | undefined;
}

export type CanaryDecision =
  | { kind: 'hold'; reason: string }
  | { kind: 'advance'; stage: number; reason: string }
  | { kind: 'promote'; reason: string }
  | { kind: 'rollback'; reason: string };

export interface CanaryPlan {
  stages: readonly number[];
  stageDurationMs: number;
  analysis: CanaryAnalysisLimits;
}

/** Share of traffic (0..1) the candidate gets now. */
export function candidateShare(plan: CanaryPlan, state: CanaryState): number {
  switch (state.status) {
    case 'promoted':
      return 1;
    case 'rolled-back':
      return 0;
    default:
      return (plan.stages[state.stage] ?? 0) / 100;
  }
}

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;

/** The first limit the candidate breaks, in words, or undefined. */
export function breach(limits: CanaryAnalysisLimits, stable: ArmWindow, candidate: ArmWindow): string | undefined {
  if (candidate.requests < limits.minSamples) return undefined;
  const rate = candidate.errors / candidate.requests;
  const stableRate = stable.requests === 0 ? 0 : stable.errors / stable.requests;
  if (limits.maxErrorRate !== undefined && rate > limits.maxErrorRate) {
    return `candidate error rate ${pct(rate)} over ${candidate.requests} requests exceeds maxErrorRate ${pct(limits.maxErrorRate)}`;
  }
  if (limits.maxErrorRateIncrease !== undefined && rate > stableRate + limits.maxErrorRateIncrease) {
    return `candidate error rate ${pct(rate)} over ${candidate.requests} requests exceeds the stable arm's ${pct(stableRate)} by more than maxErrorRateIncrease ${pct(limits.maxErrorRateIncrease)}`;
  }
  const p99 = candidate.p99Ms;
  if (p99 !== undefined && limits.maxP99Ms !== undefined && p99 > limits.maxP99Ms) {
    return `candidate p99 latency ${p99.toFixed(1)} ms over ${candidate.requests} requests exceeds maxP99Ms ${limits.maxP99Ms} ms`;
  }
  if (p99 !== undefined && limits.maxP99Ratio !== undefined && stable.p99Ms !== undefined && stable.requests >= limits.minSamples && p99 > stable.p99Ms * limits.maxP99Ratio) {
    return `candidate p99 latency ${p99.toFixed(1)} ms is more than ${limits.maxP99Ratio}× the stable arm's ${stable.p99Ms.toFixed(1)} ms (maxP99Ratio)`;
  }
  return undefined;
}

/**
 * The next step of a running canary at wall-clock `nowMs`: roll back at the first breach (once
 * the candidate has minSamples requests in the stage); when the stage has lasted its duration
 * with enough samples and no breach, advance, or promote after the last stage.
 */
export function analyseCanary(plan: CanaryPlan, state: CanaryState, nowMs: number, stable: ArmWindow, candidate: ArmWindow): CanaryDecision {
  if (state.status !== 'running') return { kind: 'hold', reason: `the canary is ${state.status}` };
  const broken = breach(plan.analysis, stable, candidate);
  if (broken !== undefined) return { kind: 'rollback', reason: broken };
  const share = plan.stages[state.stage]!;
  if (nowMs - state.stageStartedMs < plan.stageDurationMs) return { kind: 'hold', reason: `stage ${state.stage + 1} (${share}%) runs until its duration has passed` };
  if (candidate.requests < plan.analysis.minSamples) {
    return { kind: 'hold', reason: `stage ${state.stage + 1} (${share}%) waits for ${plan.analysis.minSamples} candidate requests; it has ${candidate.requests}` };
  }
  const healthy = `the candidate stayed within its limits over ${candidate.requests} requests at ${share}%`;
  if (state.stage + 1 < plan.stages.length) return { kind: 'advance', stage: state.stage + 1, reason: healthy };
  return { kind: 'promote', reason: healthy };
}

/** The state after a decision (a new object; history grows by one transition, except for hold). */
export function applyCanaryDecision(plan: CanaryPlan, state: CanaryState, decision: CanaryDecision, nowMs: number): CanaryState {
  const label = (s: CanaryState): string => (s.status === 'running' || s.status === 'paused' ? `stage ${s.stage + 1} (${plan.stages[s.stage]}%)` : s.status);
  let next: CanaryState;
  switch (decision.kind) {
    case 'hold':
      return state;
    case 'advance':
      next = { ...state, stage: decision.stage, stageStartedMs: nowMs };
      break;
    case 'promote':
      next = { ...state, status: 'promoted', stageStartedMs: nowMs };
      break;
    case 'rollback':
      next = { ...state, status: 'rolled-back', stageStartedMs: nowMs };
      break;
  }
  return { ...next, history: [...state.history, { atMs: nowMs, from: label(state), to: label(next), reason: decision.reason }] };
}

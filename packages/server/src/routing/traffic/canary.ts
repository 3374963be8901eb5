// `canary`: a candidate gets a growing share of traffic in stages against the stable arm; each
// stage is judged on what both arms did in it (policies/canary.ts decides), on a timer of the
// injected clock and at once on every candidate outcome; a breach rolls back, the last stage
// passed promotes. A candidate's failure may be answered by the stable arm (retryOnStable).
import { SibylError, type InferRequest } from '@sibyl/protocol';
import type { CancelTimer } from '../../core/clock.ts';
import type { Random } from '../../core/random.ts';
import type { RequestContext } from '../../core/request-context.ts';
import { copyTensor } from '../../core/tensor-rows.ts';
import { ArmStats } from '../arm-stats.ts';
import { chooseArm } from '../policies/hashing.ts';
import { analyseCanary, applyCanaryDecision, candidateShare, type CanaryDecision, type CanaryState } from '../policies/canary.ts';
import { isServerError, targetKey } from '../target.ts';
import { answerOne } from './answer-one.ts';
import { stickyKeyOf, type CanaryAction, type Choice, type CompiledPolicy, type PolicyAnswer, type PolicyEnv, type PolicyIo, type PolicyOf, type TrafficPolicyModule } from './traffic-policy.ts';

type CanaryPolicy = PolicyOf<'canary'>;

export interface CanarySnapshot {
  readonly kind: 'canary';
  readonly state: CanaryState;
  /** Share of traffic (0..1) the candidate gets now. */
  readonly candidateShare: number;
  readonly stages: readonly number[];
  /** targetKey of each arm. */
  readonly stable: string;
  readonly candidate: string;
}

/** The arm of a request in `state`, sticky by `key` when there is one. Pure. */
export function chooseCanary(policy: CanaryPolicy, state: CanaryState, key: string | undefined, random: Random): Choice {
  const share = candidateShare(policy, state);
  if (share <= 0) return { arm: 'stable', target: policy.stable };
  if (share >= 1) return { arm: 'candidate', target: policy.candidate };
  const arm = chooseArm(
    [
      { name: 'stable', weight: 1 - share },
      { name: 'candidate', weight: share },
    ],
    key,
    random,
  ).name;
  return { arm, target: arm === 'stable' ? policy.stable : policy.candidate };
}

/** Whether a server error of the candidate is answered by the stable arm instead. Pure. */
export function retriesOnStable(policy: CanaryPolicy, state: CanaryState, arm: string): boolean {
  return policy.retryOnStable && arm === 'candidate' && candidateShare(policy, state) < 1;
}

/** The state of a canary that starts now (wall clock, ms). */
export const startingCanary = (nowMs: number): CanaryState => ({ status: 'running', stage: 0, stageStartedMs: nowMs, history: [] });

class CompiledCanary implements CompiledPolicy<CanarySnapshot> {
  private state: CanaryState;
  /** The arms in the current stage (reset at every transition). */
  private stageArms = { stable: new ArmStats(), candidate: new ArmStats() };
  private timer: CancelTimer | undefined;
  private closed = false;

  constructor(
    private readonly policy: CanaryPolicy,
    private readonly env: PolicyEnv,
  ) {
    this.state = env.state.canary ?? startingCanary(env.clock.epochMs());
    this.schedule();
  }

  primaryTarget(): ReturnType<CompiledPolicy<CanarySnapshot>['primaryTarget']> {
    return this.state.status === 'promoted' ? this.policy.candidate : this.policy.stable;
  }

  async answer(request: InferRequest, context: RequestContext, io: PolicyIo): Promise<PolicyAnswer> {
    const p = this.policy;
    const choice = chooseCanary(p, this.state, stickyKeyOf(p.stickyKey, request, context), this.env.random);
    const retry = retriesOnStable(p, this.state, choice.arm);
    const spare = retry ? request.inputs.map(copyTensor) : undefined;
    try {
      return await answerOne(choice, request, context, io);
    } catch (err) {
      if (spare === undefined || !isServerError(err)) throw err;
      // The candidate failed: the stable arm answers, so the caller never sees it.
      const outcome = await io.call(p.stable, { ...request, inputs: spare }, context, io.needsInputCopy ? spare.map(copyTensor) : undefined);
      io.count('stable', 'ok', { judged: false });
      return { response: outcome.response, variant: 'stable', parameters: { sibyl_retried_from: 'candidate', ...outcome.response.parameters } };
    }
  }

  observe(arm: string, outcome: 'ok' | 'server-error' | 'client-error', latencyMs: number): void {
    if (arm !== 'stable' && arm !== 'candidate') return;
    this.stageArms[arm].record(outcome, latencyMs);
    // A breach rolls back at once, not at the next analysis tick.
    if (arm === 'candidate') this.analyse();
  }

  snapshot(): CanarySnapshot {
    const p = this.policy;
    return { kind: 'canary', state: structuredClone(this.state), candidateShare: candidateShare(p, this.state), stages: p.stages, stable: targetKey(p.stable), candidate: targetKey(p.candidate) };
  }

  canaryAction(action: CanaryAction, reason: string): CanaryState {
    const state = this.state;
    const name = this.env.endpoint;
    if (state.status === 'promoted' || state.status === 'rolled-back') {
      throw new SibylError('ENDPOINT_ACTION_INVALID', `the canary of endpoint '${name}' has ended (${state.status}); set the endpoint again to start a new one`);
    }
    if (action === 'promote' || action === 'rollback') {
      this.transition({ kind: action, reason });
      return this.state;
    }
    const status = action === 'pause' ? 'paused' : 'running';
    if (state.status !== status) {
      const nowMs = this.env.clock.epochMs();
      this.state = { ...state, status, stageStartedMs: action === 'resume' ? nowMs : state.stageStartedMs, history: [...state.history, { atMs: nowMs, from: state.status, to: status, reason }] };
      this.save();
      if (status === 'running') this.schedule();
      else this.timer?.();
    }
    return this.state;
  }

  close(): void {
    this.closed = true;
    this.timer?.();
  }

  private schedule(): void {
    if (this.closed || this.state.status !== 'running') return;
    const tick = Math.max(10, Math.min(1000, this.policy.stageDurationMs / 10));
    this.timer = this.env.clock.setTimeout(() => {
      this.analyse();
      this.schedule();
    }, tick);
  }

  /** Runs the analysis now and applies its decision. */
  private analyse(): CanaryDecision {
    const decision = analyseCanary(this.policy, this.state, this.env.clock.epochMs(), this.stageArms.stable.window(), this.stageArms.candidate.window());
    if (decision.kind !== 'hold') this.transition(decision);
    return decision;
  }

  private transition(decision: CanaryDecision): void {
    const { policy: p, env } = this;
    const name = env.endpoint;
    const next = applyCanaryDecision(p, this.state, decision, env.clock.epochMs());
    this.state = next;
    this.stageArms = { stable: new ArmStats(), candidate: new ArmStats() };
    const last = next.history.at(-1)!;
    env.log[decision.kind === 'rollback' ? 'warn' : 'info']({ endpoint: name, canary: last }, `endpoint ${name}: canary ${last.from} → ${last.to}: ${decision.reason}`);
    this.save();
    if (decision.kind === 'promote') {
      void env.promote(p.stable, p.candidate).then(
        (what) => env.log.info({ endpoint: name }, `endpoint ${name}: promoted: ${what}`),
        (err: unknown) => env.log.error({ endpoint: name }, `endpoint ${name}: promotion could not move the stable target: ${(err as Error).message}`),
      );
    }
    if (next.status !== 'running') {
      this.timer?.();
      this.timer = undefined;
    }
  }

  private save(): void {
    this.env.saveState({ ...this.env.state, canary: this.state });
  }
}

export const canary: TrafficPolicyModule<'canary', CanarySnapshot> = {
  kind: 'canary',
  answersByKey: false,
  targets: (policy) => [policy.stable, policy.candidate],
  arms: () => ['stable', 'candidate'],
  compile: (policy, env) => new CompiledCanary(policy, env),
  report: (s) => ({
    canary: {
      status: s.state.status,
      stage: s.state.stage + 1,
      stages: [...s.stages],
      candidateShare: s.candidateShare,
      stageStartedAt: new Date(s.state.stageStartedMs).toISOString(),
      stable: s.stable,
      candidate: s.candidate,
      history: s.state.history.map((h) => ({ at: new Date(h.atMs).toISOString(), from: h.from, to: h.to, reason: h.reason })),
    },
  }),
};

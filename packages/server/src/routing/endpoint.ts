// An endpoint at run time: its traffic policy chooses the arm and target of each request (pure
// decisions in policies/), the target caller guards each call with a breaker and the fallback,
// shadow copies go out after the answer, and every outcome is counted per arm for the report and
// the canary's analysis. The canary advances on a timer of the injected clock.
import { randomUUID } from 'node:crypto';
import { SibylError, type InferRequest, type InferResponse, type Parameters, type Tensor } from '@sibyl/protocol';
import type { Logger } from 'pino';
import type { EndpointConfig, StickyKey, Target } from '../config/endpoint-config.ts';
import type { CancelTimer, Clock } from '../core/clock.ts';
import type { RequestContext } from '../core/request-context.ts';
import type { Random } from '../core/random.ts';
import { copyTensor, pickRows, replaceRows } from '../core/tensor-rows.ts';
import { ArmStats } from './arm-stats.ts';
import { compareOutputs } from './policies/agreement.ts';
import { analyseCanary, applyCanaryDecision, candidateShare, type CanaryDecision, type CanaryState } from './policies/canary.ts';
import { uncertainRows } from './policies/cascade.ts';
import { chooseArm } from './policies/hashing.ts';
import { TargetCaller, isServerError, targetKey, type RunTarget } from './target-call.ts';
import { HybridServing } from './hybrid-serving.ts';
import type { PredictionLookup } from './stored-prediction.ts';

/** What an endpoint keeps across restarts (the state store holds it). */
export interface EndpointState {
  canary?: CanaryState;
  /** Blue-green: the colour switched to through the API. */
  active?: 'blue' | 'green';
}

export interface EndpointContext {
  clock: Clock;
  random: Random;
  log: Logger;
  run: RunTarget;
  /** Where hybrid endpoints read stored predictions. */
  predictions?: PredictionLookup;
  /** Persists the state; called after every change of it. */
  saveState(state: EndpointState): void;
  /**
   * Makes the candidate the stable version when a canary is promoted: moves the stable target's
   * label when it has one. Resolves with what was done, for the transition's reason.
   */
  promote(stable: Target, candidate: Target): Promise<string>;
}

/** Request ids kept for outcome feedback. */
const FEEDBACK_MEMORY = 100_000;

interface ShadowStats {
  sent: number;
  dropped: number;
  failed: number;
  rows: number;
  sameTopClass: number;
  maxAbsDiff: number;
  sumMaxAbsDiff: number;
  compared: number;
}

export class Endpoint {
  readonly arms = new Map<string, ArmStats>();
  /** The canary's arms in the current stage (reset at every transition). */
  private stageArms = { stable: new ArmStats(), candidate: new ArmStats() };
  readonly caller: TargetCaller;
  readonly shadowStats: ShadowStats = { sent: 0, dropped: 0, failed: 0, rows: 0, sameTopClass: 0, maxAbsDiff: 0, sumMaxAbsDiff: 0, compared: 0 };
  readonly cascadeStats: { answered: number; rowsIn: number }[];
  /** A hybrid endpoint's serving, with its answers by source. */
  readonly hybrid: HybridServing | undefined;
  private shadowsInFlight = 0;
  private readonly requestArms = new Map<string, string>();
  private canaryTimer: CancelTimer | undefined;
  private closed = false;

  constructor(
    readonly name: string,
    readonly config: EndpointConfig,
    private state: EndpointState,
    private readonly ctx: EndpointContext,
  ) {
    this.caller = new TargetCaller(config, ctx.clock, ctx.run);
    const p = config.policy;
    this.cascadeStats = p.kind === 'cascade' ? p.stages.map(() => ({ answered: 0, rowsIn: 0 })) : [];
    // Arms in the order the policy names them: the first is the control of the report's tests.
    const names =
      p.kind === 'split'
        ? p.arms.map((a) => a.name)
        : p.kind === 'canary'
          ? ['stable', 'candidate']
          : p.kind === 'blueGreen'
            ? ['blue', 'green']
            : p.kind === 'cascade'
              ? p.stages.map((_, i) => `stage-${i + 1}`)
              : p.kind === 'hybrid'
                ? ['store', 'live', 'default']
                : ['default'];
    this.hybrid = p.kind === 'hybrid' ? new HybridServing(name, p, { clock: ctx.clock, log: ctx.log, predictions: ctx.predictions, caller: this.caller }) : undefined;
    for (const name of names) this.arms.set(name, new ArmStats());
    if (p.kind === 'canary') {
      this.state.canary ??= { status: 'running', stage: 0, stageStartedMs: ctx.clock.epochMs(), history: [] };
      this.scheduleCanary();
    }
  }

  get canary(): CanaryState | undefined {
    return this.state.canary;
  }

  /** Blue-green: the colour that answers. */
  get active(): 'blue' | 'green' | undefined {
    const p = this.config.policy;
    return p.kind === 'blueGreen' ? (this.state.active ?? p.active) : undefined;
  }

  private statsOf(arm: string): ArmStats {
    let s = this.arms.get(arm);
    if (s === undefined) this.arms.set(arm, (s = new ArmStats()));
    return s;
  }

  private stickyKeyOf(key: StickyKey | undefined, request: InferRequest, rc: RequestContext): string | undefined {
    if (key === undefined) return undefined;
    const value = key.header !== undefined ? rc.header?.(key.header) : request.parameters?.[key.parameter!];
    return value === undefined ? undefined : String(value);
  }

  /** The target that stands for the endpoint in its metadata and readiness. */
  primaryTarget(): Target {
    const p = this.config.policy;
    switch (p.kind) {
      case 'single':
        return p.target;
      case 'split':
        return (p.arms.find((a) => a.weight > 0) ?? p.arms[0]!).target;
      case 'canary':
        return this.state.canary?.status === 'promoted' ? p.candidate : p.stable;
      case 'blueGreen':
        return this.active === 'green' ? p.green : p.blue;
      case 'cascade':
        return p.stages[0]!.target;
      case 'hybrid':
        return p.target;
    }
  }

  /** The arm and target the policy chooses for this request. */
  choose(request: InferRequest, rc: RequestContext): { arm: string; target: Target } {
    const p = this.config.policy;
    switch (p.kind) {
      case 'single':
        return { arm: 'default', target: p.target };
      case 'split': {
        const arm = chooseArm(p.arms, this.stickyKeyOf(p.stickyKey, request, rc), this.ctx.random);
        return { arm: arm.name, target: arm.target };
      }
      case 'canary': {
        const share = candidateShare(p, this.state.canary!);
        if (share <= 0) return { arm: 'stable', target: p.stable };
        if (share >= 1) return { arm: 'candidate', target: p.candidate };
        const arms = [
          { name: 'stable', weight: 1 - share },
          { name: 'candidate', weight: share },
        ];
        const arm = chooseArm(arms, this.stickyKeyOf(p.stickyKey, request, rc), this.ctx.random).name;
        return { arm, target: arm === 'stable' ? p.stable : p.candidate };
      }
      case 'blueGreen': {
        const colour = this.active!;
        return { arm: colour, target: colour === 'blue' ? p.blue : p.green };
      }
      case 'cascade':
        return { arm: 'stage-1', target: p.stages[0]!.target };
      case 'hybrid':
        return { arm: 'live', target: p.target };
    }
  }

  /**
   * Answers a request through the policy. The response says which model, version and variant
   * answered (`sibyl_variant`), and whether a fallback did (`sibyl_fallback`, with the reason).
   * Its `id` is the request's, or one made up for feedback.
   */
  async infer(request: InferRequest, rc: RequestContext): Promise<InferResponse> {
    if (this.hybrid !== undefined) return this.inferHybrid(this.hybrid, request, rc);
    const started = this.ctx.clock.now();
    const requestId = request.id ?? randomUUID();
    const shadow = this.config.shadow;
    let shadowInputs: Tensor[] | undefined;
    if (shadow !== undefined && this.ctx.random() < shadow.fraction) {
      if (this.shadowsInFlight >= shadow.maxInFlight) this.shadowStats.dropped++;
      else shadowInputs = request.inputs.map(copyTensor);
    }
    const { arm, target } = this.choose(request, rc);
    const p = this.config.policy;
    const retry = p.kind === 'canary' && p.retryOnStable && arm === 'candidate' && candidateShare(p, this.state.canary!) < 1;
    const spare = this.caller.needsInputCopy || retry || p.kind === 'cascade' ? request.inputs.map(copyTensor) : undefined;

    let response: InferResponse;
    let variant = arm;
    const parameters: Parameters = { sibyl_endpoint: this.name };
    try {
      if (p.kind === 'cascade') {
        const result = await this.runCascade(request, spare!, rc);
        response = result.response;
        variant = `stage-${result.stage}`;
        parameters.sibyl_cascade_stage = result.stage;
        if (result.escalatedRows > 0) parameters.sibyl_cascade_escalated_rows = result.escalatedRows;
      } else {
        const outcome = await this.caller.call(target, request, rc, spare);
        response = outcome.response;
        if (outcome.fallback !== undefined) {
          parameters.sibyl_fallback = true;
          parameters.sibyl_fallback_reason = outcome.fallback;
        }
        this.count(arm, outcome.error === undefined ? 'ok' : 'server-error', started);
      }
    } catch (err) {
      const serverError = isServerError(err);
      if (p.kind !== 'cascade') this.count(arm, serverError ? 'server-error' : 'client-error', started);
      if (retry && serverError) {
        // The candidate failed: the stable arm answers, so the caller never sees it.
        const outcome = await this.caller.call(p.stable, { ...request, inputs: spare! }, rc, spare!.map(copyTensor));
        response = outcome.response;
        variant = 'stable';
        parameters.sibyl_retried_from = 'candidate';
        this.count('stable', 'ok', started, false);
      } else {
        throw err;
      }
    }
    if (response.parameters !== undefined) Object.assign(parameters, response.parameters);
    parameters.sibyl_variant = variant;
    const answered: InferResponse = { ...response, id: requestId, parameters };
    this.remember(requestId, variant);
    if (shadowInputs !== undefined) this.sendShadow({ ...request, inputs: shadowInputs }, answered, rc);
    return answered;
  }

  /** A hybrid endpoint: the store, the live target or the default answers (`sibyl_source`). */
  private async inferHybrid(hybrid: HybridServing, request: InferRequest, rc: RequestContext): Promise<InferResponse> {
    const started = this.ctx.clock.now();
    const requestId = request.id ?? randomUUID();
    const { response, source, parameters } = await hybrid.answer(request, rc, (arm, outcome) => this.count(arm, outcome, started));
    const answered: InferResponse = { ...response, id: requestId, parameters: { sibyl_endpoint: this.name, ...response.parameters, ...parameters, sibyl_variant: source } };
    this.remember(requestId, source);
    return answered;
  }

  /** Counts an outcome for an arm (and for the canary stage); `stage`: false for a retry's second answer. */
  private count(arm: string, outcome: 'ok' | 'server-error' | 'client-error', started: number, stage = true): void {
    const latencyMs = this.ctx.clock.now() - started;
    this.statsOf(arm).record(outcome, latencyMs);
    if (this.config.policy.kind !== 'canary' || !stage || (arm !== 'stable' && arm !== 'candidate')) return;
    this.stageArms[arm].record(outcome, latencyMs);
    // A breach rolls back at once, not at the next analysis tick.
    if (arm === 'candidate') this.analyse();
  }

  private remember(requestId: string, arm: string): void {
    this.requestArms.set(requestId, arm);
    if (this.requestArms.size > FEEDBACK_MEMORY) this.requestArms.delete(this.requestArms.keys().next().value!);
  }

  /**
   * Records the outcome of an answered request (a click, a conversion): the arm that answered it
   * gets it. @throws SibylError FEEDBACK_UNMATCHED when the request is unknown or already has one.
   */
  feedback(requestId: string, success: boolean): string {
    const arm = this.requestArms.get(requestId);
    if (arm === undefined) {
      throw new SibylError(
        'FEEDBACK_UNMATCHED',
        `endpoint '${this.name}' answered no request '${requestId}' among its last ${FEEDBACK_MEMORY}, or that request has its outcome already; use the id of its response`,
      );
    }
    this.requestArms.delete(requestId);
    this.statsOf(arm).feedback(success);
    return arm;
  }

  /**
   * A cascade: every row goes to the first stage; rows whose confidence (the largest value of the
   * stage's confidence output) is below its threshold go on to the next, and their answers
   * replace the earlier ones. A model that does not batch goes on as a whole.
   */
  private async runCascade(request: InferRequest, original: Tensor[], rc: RequestContext): Promise<{ response: InferResponse; stage: number; escalatedRows: number }> {
    const p = this.config.policy;
    if (p.kind !== 'cascade') throw new Error('not a cascade');
    const rows = original[0]?.shape[0] ?? 1;
    const batched = original.length > 0 && original.every((t) => t.shape.length > 0 && t.shape[0] === rows);
    let pending = batched ? Array.from({ length: rows }, (_, i) => i) : [0];
    let merged: InferResponse | undefined;
    let escalatedRows = 0;
    for (let stage = 0; ; stage++) {
      const s = p.stages[stage]!;
      const stats = this.cascadeStats[stage]!;
      const inputs = stage === 0 ? request.inputs : batched ? original.map((t) => pickRows(t, pending)) : original.map(copyTensor);
      stats.rowsIn += pending.length;
      const started = this.ctx.clock.now();
      let response: InferResponse;
      try {
        response = (await this.caller.call(s.target, { ...request, inputs }, rc, undefined)).response;
      } catch (err) {
        this.statsOf(`stage-${stage + 1}`).record(isServerError(err) ? 'server-error' : 'client-error', 0);
        throw err;
      }
      this.statsOf(`stage-${stage + 1}`).record('ok', this.ctx.clock.now() - started);
      merged = merged === undefined || !batched ? response : { ...response, outputs: merged.outputs.map((o) => replaceRows(o, pending, outputOf(response, o.name, stage))) };
      if (stage === p.stages.length - 1 || s.threshold === undefined) {
        stats.answered += pending.length;
        return { response: merged, stage: stage + 1, escalatedRows };
      }
      const scores = outputOf(response, s.output ?? response.outputs[0]?.name ?? '', stage);
      const uncertain = uncertainRows(batched ? scores : { ...scores, shape: [1, scores.data.length] }, s.threshold, targetKey(s.target));
      stats.answered += pending.length - uncertain.length;
      if (uncertain.length === 0) return { response: merged, stage: stage + 1, escalatedRows };
      pending = batched ? uncertain.map((i) => pending[i]!) : [0];
      if (stage === 0) escalatedRows = pending.length;
    }
  }

  /** Sends a copy to the shadow target after the answer; the caller never waits for it. */
  private sendShadow(request: InferRequest, primary: InferResponse, rc: RequestContext): void {
    const shadow = this.config.shadow!;
    this.shadowsInFlight++;
    this.shadowStats.sent++;
    setImmediate(() => {
      this.ctx
        .run(shadow.target, request, { ...rc, signal: undefined })
        .then((answer) => {
          const name = shadow.compareOutput ?? primary.outputs[0]?.name;
          const a = primary.outputs.find((o) => o.name === name);
          const b = answer.outputs.find((o) => o.name === name);
          const agreement = a === undefined || b === undefined ? undefined : compareOutputs(a, b);
          if (agreement === undefined) return;
          const s = this.shadowStats;
          s.compared++;
          s.rows += agreement.rows;
          s.sameTopClass += agreement.sameTopClass;
          s.maxAbsDiff = Math.max(s.maxAbsDiff, agreement.maxAbsDiff);
          s.sumMaxAbsDiff += agreement.maxAbsDiff;
        })
        .catch(() => {
          this.shadowStats.failed++;
        })
        .finally(() => this.shadowsInFlight--);
    });
  }

  // The canary.

  private scheduleCanary(): void {
    const p = this.config.policy;
    if (p.kind !== 'canary' || this.closed || this.state.canary?.status !== 'running') return;
    const tick = Math.max(10, Math.min(1000, p.stageDurationMs / 10));
    this.canaryTimer = this.ctx.clock.setTimeout(() => {
      this.analyse();
      this.scheduleCanary();
    }, tick);
  }

  /** Runs the canary analysis now and applies its decision. */
  analyse(): CanaryDecision | undefined {
    const p = this.config.policy;
    const state = this.state.canary;
    if (p.kind !== 'canary' || state === undefined) return undefined;
    const decision = analyseCanary(p, state, this.ctx.clock.epochMs(), this.stageArms.stable.window(), this.stageArms.candidate.window());
    if (decision.kind !== 'hold') this.transition(decision);
    return decision;
  }

  private transition(decision: CanaryDecision): void {
    const p = this.config.policy;
    if (p.kind !== 'canary') return;
    const next = applyCanaryDecision(p, this.state.canary!, decision, this.ctx.clock.epochMs());
    this.state = { ...this.state, canary: next };
    this.stageArms = { stable: new ArmStats(), candidate: new ArmStats() };
    const level = decision.kind === 'rollback' ? 'warn' : 'info';
    this.ctx.log[level]({ endpoint: this.name, canary: next.history.at(-1) }, `endpoint ${this.name}: canary ${next.history.at(-1)!.from} → ${next.history.at(-1)!.to}: ${decision.reason}`);
    this.ctx.saveState(this.state);
    if (decision.kind === 'promote') {
      void this.ctx.promote(p.stable, p.candidate).then(
        (what) => this.ctx.log.info({ endpoint: this.name }, `endpoint ${this.name}: promoted: ${what}`),
        (err: unknown) => this.ctx.log.error({ endpoint: this.name }, `endpoint ${this.name}: promotion could not move the stable target: ${(err as Error).message}`),
      );
    }
    if (next.status !== 'running') {
      this.canaryTimer?.();
      this.canaryTimer = undefined;
    }
  }

  /**
   * Operator actions on the canary: promote or roll back at once, pause or resume.
   * @throws SibylError ENDPOINT_ACTION_INVALID when the endpoint has no canary or it has ended.
   */
  canaryAction(action: 'promote' | 'rollback' | 'pause' | 'resume', reason: string): CanaryState {
    const p = this.config.policy;
    const state = this.state.canary;
    if (p.kind !== 'canary' || state === undefined) throw new SibylError('ENDPOINT_ACTION_INVALID', `endpoint '${this.name}' has no canary; its policy is ${p.kind}`);
    if (state.status === 'promoted' || state.status === 'rolled-back') {
      throw new SibylError('ENDPOINT_ACTION_INVALID', `the canary of endpoint '${this.name}' has ended (${state.status}); set the endpoint again to start a new one`);
    }
    if (action === 'promote') this.transition({ kind: 'promote', reason });
    else if (action === 'rollback') this.transition({ kind: 'rollback', reason });
    else {
      const status = action === 'pause' ? 'paused' : 'running';
      if (state.status !== status) {
        const nowMs = this.ctx.clock.epochMs();
        this.state = {
          ...this.state,
          canary: { ...state, status, stageStartedMs: action === 'resume' ? nowMs : state.stageStartedMs, history: [...state.history, { atMs: nowMs, from: state.status, to: status, reason }] },
        };
        this.ctx.saveState(this.state);
        if (status === 'running') this.scheduleCanary();
        else this.canaryTimer?.();
      }
    }
    return this.state.canary!;
  }

  /** Blue-green: makes `colour` the one that answers, atomically. @throws SibylError ENDPOINT_ACTION_INVALID. */
  switchTo(colour: 'blue' | 'green' | undefined): 'blue' | 'green' {
    if (this.config.policy.kind !== 'blueGreen') throw new SibylError('ENDPOINT_ACTION_INVALID', `endpoint '${this.name}' is not blue-green; its policy is ${this.config.policy.kind}`);
    const to = colour ?? (this.active === 'blue' ? 'green' : 'blue');
    this.state = { ...this.state, active: to };
    this.ctx.saveState(this.state);
    this.ctx.log.info({ endpoint: this.name }, `endpoint ${this.name}: switched to ${to}`);
    return to;
  }

  close(): void {
    this.closed = true;
    this.canaryTimer?.();
  }
}

/** The named output of a cascade stage's answer. @throws SibylError INTERNAL_ERROR naming the stage. */
function outputOf(response: InferResponse, name: string, stage: number): Tensor {
  const output = response.outputs.find((o) => o.name === name);
  if (output === undefined) {
    throw new SibylError(
      'INTERNAL_ERROR',
      `cascade stage ${stage + 1} (${response.model_name}) answered no output '${name}'; its outputs are ${response.outputs.map((o) => o.name).join(', ')}, and every stage must answer the outputs the cascade uses`,
    );
  }
  return output;
}

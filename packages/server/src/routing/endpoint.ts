// An endpoint at run time: a small generic executor around its traffic policy (one module per
// kind in traffic/, compiled once here). For each request the policy chooses arms and calls
// targets through the guarded call (breaker and fallback, target-call.ts); the shadow copies the
// request after the answer (shadow.ts); every outcome is counted per arm for the snapshot that
// metrics, the report and the CLI read. Nothing here depends on the policy's kind.
import { randomUUID } from 'node:crypto';
import { SibylError, type InferRequest, type InferResponse } from '@sibyl/protocol';
import type { Logger } from 'pino';
import type { EndpointConfig, EndpointConfigDocument, Target } from '../config/endpoint-config.ts';
import type { Clock } from '../core/clock.ts';
import type { Random } from '../core/random.ts';
import type { RequestContext } from '../core/request-context.ts';
import { ArmStats, type ArmSnapshot } from './arm-stats.ts';
import type { CanaryState } from './policies/canary.ts';
import { Shadow, type ShadowSnapshot } from './shadow.ts';
import type { PredictionLookup } from './stored-prediction.ts';
import { TargetCaller, type TargetCallSnapshot } from './target-call.ts';
import type { RunTarget } from './target.ts';
import { compilePolicy, policyArms, trafficPolicyModule, type PolicySnapshot } from './traffic/registry.ts';
import type { ArmOutcome, CanaryAction, CompiledPolicy, EndpointState, PolicyIo } from './traffic/traffic-policy.ts';

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

/** What an endpoint did and where its policy stands: one consistent copy, read by metrics, the report and the CLI. */
export interface EndpointSnapshot extends TargetCallSnapshot {
  readonly name: string;
  readonly description: string;
  /** The document the endpoint was compiled from. */
  readonly document: EndpointConfigDocument;
  /** Every arm in report order (the first is the control), then arms first seen at run time. */
  readonly arms: readonly { readonly arm: string; readonly stats: ArmSnapshot }[];
  /** The policy's own state, discriminated by its kind. */
  readonly policy: PolicySnapshot;
  readonly shadow?: ShadowSnapshot;
}

/** Request ids kept for outcome feedback. */
const FEEDBACK_MEMORY = 100_000;

export class Endpoint {
  /** Whether requests may carry no inputs: the policy answers by a key (hybrid). */
  readonly answersByKey: boolean;
  private readonly policy: CompiledPolicy<PolicySnapshot>;
  private readonly caller: TargetCaller;
  private readonly shadow: Shadow | undefined;
  private readonly arms = new Map<string, ArmStats>();
  private readonly requestArms = new Map<string, string>();

  constructor(
    readonly name: string,
    readonly config: EndpointConfig,
    state: EndpointState,
    private readonly ctx: EndpointContext,
  ) {
    this.answersByKey = trafficPolicyModule(config.policy.kind).answersByKey;
    this.caller = new TargetCaller(config, ctx.clock, ctx.run);
    this.shadow = config.shadow === undefined ? undefined : new Shadow(config.shadow, ctx.random, ctx.run);
    for (const arm of policyArms(config.policy)) this.arms.set(arm, new ArmStats());
    const { clock, random, log, predictions } = ctx;
    this.policy = compilePolicy(config.policy, { endpoint: name, clock, random, log, predictions, state, saveState: (s) => ctx.saveState(s), promote: (s, c) => ctx.promote(s, c) });
  }

  /** The target that stands for the endpoint in its metadata and readiness. */
  primaryTarget(): Target {
    return this.policy.primaryTarget();
  }

  /**
   * Answers a request through the policy. The response says which model, version and variant
   * answered (`sibyl_variant`), and whether a fallback did (`sibyl_fallback`, with the reason).
   * Its `id` is the request's, or one made up for feedback. `context` goes unchanged to every
   * target call.
   */
  async infer(request: InferRequest, context: RequestContext): Promise<InferResponse> {
    const startedMs = this.ctx.clock.now();
    const requestId = request.id ?? randomUUID();
    const io: PolicyIo = {
      call: this.caller.call,
      needsInputCopy: this.caller.needsInputCopy,
      count: (arm, outcome, options) => this.count(arm, outcome, options?.startedMs ?? startedMs, options?.judged ?? true),
    };
    const answer = async (): Promise<InferResponse> => {
      const { response, variant, parameters } = await this.policy.answer(request, context, io);
      this.remember(requestId, variant);
      return { ...response, id: requestId, parameters: { sibyl_endpoint: this.name, ...parameters, sibyl_variant: variant } };
    };
    return this.shadow === undefined ? answer() : this.shadow.around(request, context, answer);
  }

  private count(arm: string, outcome: ArmOutcome, startedMs: number, judged: boolean): void {
    const latencyMs = this.ctx.clock.now() - startedMs;
    this.statsOf(arm).record(outcome, latencyMs);
    if (judged) this.policy.observe?.(arm, outcome, latencyMs);
  }

  private statsOf(arm: string): ArmStats {
    let stats = this.arms.get(arm);
    if (stats === undefined) this.arms.set(arm, (stats = new ArmStats()));
    return stats;
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
   * Operator actions on the canary: promote or roll back at once, pause or resume.
   * @throws SibylError ENDPOINT_ACTION_INVALID when the endpoint has no canary or it has ended.
   */
  canaryAction(action: CanaryAction, reason: string): CanaryState {
    if (this.policy.canaryAction === undefined) throw new SibylError('ENDPOINT_ACTION_INVALID', `endpoint '${this.name}' has no canary; its policy is ${this.config.policy.kind}`);
    return this.policy.canaryAction(action, reason);
  }

  /** Blue-green: makes `colour` the one that answers, atomically. @throws SibylError ENDPOINT_ACTION_INVALID. */
  switchTo(colour: 'blue' | 'green' | undefined): 'blue' | 'green' {
    if (this.policy.switchTo === undefined) throw new SibylError('ENDPOINT_ACTION_INVALID', `endpoint '${this.name}' is not blue-green; its policy is ${this.config.policy.kind}`);
    return this.policy.switchTo(colour);
  }

  snapshot(): EndpointSnapshot {
    return {
      name: this.name,
      description: this.config.description,
      document: this.config.document,
      arms: [...this.arms].map(([arm, stats]) => ({ arm, stats: stats.snapshot() })),
      policy: this.policy.snapshot(),
      ...(this.shadow === undefined ? {} : { shadow: this.shadow.snapshot() }),
      ...this.caller.snapshot(),
    };
  }

  close(): void {
    this.policy.close();
  }
}

// `cascade`: cheap models first. Every row goes to the first stage; rows whose confidence (the
// largest value of the stage's confidence output) is below its threshold go on to the next, and
// their answers replace the earlier ones (policies/cascade.ts decides which rows). A model that
// does not batch goes on as a whole.
import { SibylError, type InferRequest, type InferResponse, type Tensor } from '@sibyl/protocol';
import type { Clock } from '../../core/clock.ts';
import type { RequestContext } from '../../core/request-context.ts';
import { copyTensor, pickRows, replaceRows } from '../../core/tensor-rows.ts';
import { uncertainRows } from '../policies/cascade.ts';
import { isServerError, targetKey } from '../target.ts';
import type { PolicyAnswer, PolicyIo, PolicyOf, TrafficPolicyModule } from './traffic-policy.ts';

type CascadePolicy = PolicyOf<'cascade'>;

export interface CascadeStageSnapshot {
  /** targetKey of the stage's target. */
  readonly target: string;
  readonly threshold: number | null;
  /** Rows sent to the stage, and rows it answered for good. */
  readonly rowsIn: number;
  readonly answered: number;
}

export interface CascadeSnapshot {
  readonly kind: 'cascade';
  readonly stages: readonly CascadeStageSnapshot[];
}

const stageArm = (stage: number): string => `stage-${stage + 1}`;

/** The rows a request's stages work on: all of them when every input is batched along one first dimension, else the request as one. Pure. */
export function cascadeRows(inputs: readonly Tensor[]): { batched: boolean; rows: number[] } {
  const rows = inputs[0]?.shape[0] ?? 1;
  const batched = inputs.length > 0 && inputs.every((t) => t.shape.length > 0 && t.shape[0] === rows);
  return { batched, rows: batched ? Array.from({ length: rows }, (_, i) => i) : [0] };
}

async function answerCascade(p: CascadePolicy, clock: Clock, counts: { answered: number; rowsIn: number }[], request: InferRequest, context: RequestContext, io: PolicyIo): Promise<PolicyAnswer> {
  const original = request.inputs.map(copyTensor);
  const { batched, rows } = cascadeRows(original);
  let pending = rows;
  let merged: InferResponse | undefined;
  let escalatedRows = 0;
  for (let stage = 0; ; stage++) {
    const s = p.stages[stage]!;
    const stats = counts[stage]!;
    const inputs = stage === 0 ? request.inputs : batched ? original.map((t) => pickRows(t, pending)) : original.map(copyTensor);
    stats.rowsIn += pending.length;
    const startedMs = clock.now();
    let response: InferResponse;
    try {
      response = (await io.call(s.target, { ...request, inputs }, context, undefined)).response;
    } catch (err) {
      io.count(stageArm(stage), isServerError(err) ? 'server-error' : 'client-error', { startedMs });
      throw err;
    }
    io.count(stageArm(stage), 'ok', { startedMs });
    merged = merged === undefined || !batched ? response : { ...response, outputs: merged.outputs.map((o) => replaceRows(o, pending, outputOf(response, o.name, stage))) };
    let uncertain: number[] = [];
    if (stage < p.stages.length - 1 && s.threshold !== undefined) {
      const scores = outputOf(response, s.output ?? response.outputs[0]?.name ?? '', stage);
      uncertain = uncertainRows(batched ? scores : { ...scores, shape: [1, scores.data.length] }, s.threshold, targetKey(s.target));
    }
    stats.answered += pending.length - uncertain.length;
    if (uncertain.length === 0) {
      const parameters = { sibyl_cascade_stage: stage + 1, ...(escalatedRows > 0 ? { sibyl_cascade_escalated_rows: escalatedRows } : {}), ...merged.parameters };
      return { response: merged, variant: stageArm(stage), parameters };
    }
    pending = batched ? uncertain.map((i) => pending[i]!) : [0];
    if (stage === 0) escalatedRows = pending.length;
  }
}

export const cascade: TrafficPolicyModule<'cascade', CascadeSnapshot> = {
  kind: 'cascade',
  answersByKey: false,
  targets: (policy) => policy.stages.map((s) => s.target),
  arms: (policy) => policy.stages.map((_, i) => stageArm(i)),
  compile: (policy, env) => {
    const counts = policy.stages.map(() => ({ answered: 0, rowsIn: 0 }));
    return {
      primaryTarget: () => policy.stages[0]!.target,
      answer: (request, context, io) => answerCascade(policy, env.clock, counts, request, context, io),
      snapshot: () => ({
        kind: 'cascade',
        stages: policy.stages.map((s, i) => ({ target: targetKey(s.target), threshold: s.threshold ?? null, rowsIn: counts[i]!.rowsIn, answered: counts[i]!.answered })),
      }),
      close: () => {},
    };
  },
  report: (s) => ({ cascade: { stages: s.stages.map((stage) => ({ ...stage })) } }),
};

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

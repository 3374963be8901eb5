// The common answer of the policies that send a request to one chosen target: the guarded call,
// the arm's outcome counted, a fallback's answer marked (sibyl_fallback, with the reason).
import type { InferRequest, Parameters } from '@sibyl/protocol';
import type { RequestContext } from '../../core/request-context.ts';
import { copyTensor } from '../../core/tensor-rows.ts';
import { isServerError, type CallOutcome } from '../target.ts';
import type { Choice, PolicyAnswer, PolicyIo } from './traffic-policy.ts';

/** Answers `request` through `choice`. @throws the target's error (counted) when no fallback answers for it. */
export async function answerOne(choice: Choice, request: InferRequest, context: RequestContext, io: PolicyIo): Promise<PolicyAnswer> {
  const spare = io.needsInputCopy ? request.inputs.map(copyTensor) : undefined;
  let outcome: CallOutcome;
  try {
    outcome = await io.call(choice.target, request, context, spare);
  } catch (err) {
    io.count(choice.arm, isServerError(err) ? 'server-error' : 'client-error');
    throw err;
  }
  io.count(choice.arm, outcome.error === undefined ? 'ok' : 'server-error');
  return { response: outcome.response, variant: choice.arm, parameters: { ...fallbackParameters(outcome), ...outcome.response.parameters } };
}

/** sibyl_fallback and its reason when the fallback answered. */
export function fallbackParameters(outcome: CallOutcome): Parameters {
  return outcome.fallback === undefined ? {} : { sibyl_fallback: true, sibyl_fallback_reason: outcome.fallback };
}

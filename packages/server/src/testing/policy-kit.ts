// Fakes for table tests of traffic policy modules (routing/traffic/): a PolicyIo whose target
// calls are scripted per model and recorded with the context they got, and a PolicyEnv on a
// manual clock with a scripted random source.
import type { InferRequest, InferResponse, Tensor } from '@sibyl/protocol';
import pino from 'pino';
import type { Target } from '../config/endpoint-config.ts';
import type { RequestContext } from '../core/request-context.ts';
import type { CallOutcome } from '../routing/target.ts';
import type { ArmOutcome, EndpointState, PolicyEnv, PolicyIo } from '../routing/traffic/traffic-policy.ts';
import { ManualClock } from './manual-clock.ts';

export interface RecordedCall {
  readonly target: Target;
  readonly request: InferRequest;
  readonly context: RequestContext;
  readonly spare: Tensor[] | undefined;
}

export interface RecordedCount {
  readonly arm: string;
  readonly outcome: ArmOutcome;
  readonly judged: boolean;
}

/** A PolicyIo answering each call with `answer(target, request)` (a thrown error fails the call). */
export function scriptedIo(answer: (target: Target, request: InferRequest) => InferResponse | CallOutcome, needsInputCopy = false): PolicyIo & { calls: RecordedCall[]; counts: RecordedCount[] } {
  const calls: RecordedCall[] = [];
  const counts: RecordedCount[] = [];
  return {
    calls,
    counts,
    needsInputCopy,
    call: (target, request, context, spare) => {
      calls.push({ target, request, context, spare });
      try {
        const a = answer(target, request);
        return Promise.resolve('response' in a ? a : { response: a });
      } catch (err) {
        return Promise.reject(err as Error);
      }
    },
    count: (arm, outcome, options) => counts.push({ arm, outcome, judged: options?.judged ?? true }),
  };
}

/** An answer of `model` with one FP32 output `scores` of shape [rows, classes]. */
export function scores(model: string, rows: number[][]): InferResponse {
  return { model_name: model, outputs: [{ name: 'scores', datatype: 'FP32', shape: [rows.length, rows[0]?.length ?? 0], data: Float32Array.from(rows.flat()) }] };
}

/** A PolicyEnv on a manual clock whose random source returns `draws` in turn (then 0.5). */
export function policyEnv(options: { state?: EndpointState; draws?: number[]; clock?: ManualClock } = {}): PolicyEnv & { saved: EndpointState[]; clock: ManualClock } {
  const draws = [...(options.draws ?? [])];
  const saved: EndpointState[] = [];
  return {
    endpoint: 'e',
    clock: options.clock ?? new ManualClock(1_000),
    random: () => draws.shift() ?? 0.5,
    log: pino({ level: 'silent' }),
    state: options.state ?? {},
    saved,
    saveState: (s) => saved.push(structuredClone(s)),
    promote: () => Promise.resolve('promoted'),
  };
}

/** A request context as an entry would build it. */
export const requestContext = (over: Partial<RequestContext> = {}): RequestContext => ({ requestId: 'r-1', arrivalMs: 0, entry: 'http', ...over });

/** A request with one FP32 input `x` of `rows` rows of two values. */
export function rowsRequest(rows: number, parameters?: InferRequest['parameters']): InferRequest {
  return { inputs: [{ name: 'x', datatype: 'FP32', shape: [rows, 2], data: new Float32Array(rows * 2) }], ...(parameters === undefined ? {} : { parameters }) };
}

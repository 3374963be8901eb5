// Hybrid serving at run time (the hybrid policy, hybrid.ts): a request is answered by the stored
// prediction of its key while it is young enough, else by the live target when the request
// carries inputs, else by the default response (routing/policies/hybrid.ts decides). The answer
// says which source gave it (`sibyl_source`), and every answer is counted by source and reason
// for the metrics and the endpoint report.
import { SibylError, type InferRequest, type InferResponse, type Parameters, type Tensor } from '@sibyl/protocol';
import type { Logger } from 'pino';
import type { DefaultOutput, TrafficPolicy } from '../../config/endpoint-config.ts';
import type { Clock } from '../../core/clock.ts';
import type { RequestContext } from '../../core/request-context.ts';
import { copyTensor } from '../../core/tensor-rows.ts';
import { defaultOutputs } from '../default-response.ts';
import { decideHybrid, type HybridReason, type HybridSource } from '../policies/hybrid.ts';
import { storedAnswer } from '../stored-answer.ts';
import type { PredictionLookup, StoredPrediction } from '../stored-prediction.ts';
import { isServerError, targetKey } from '../target.ts';
import type { PolicyIo } from './traffic-policy.ts';

type HybridPolicy = Extract<TrafficPolicy, { kind: 'hybrid' }>;

export interface HybridAnswer {
  response: InferResponse;
  source: HybridSource;
  parameters: Parameters;
}

/** Counts of answers by source ('none': nothing could answer) and reason. */
export type HybridCounts = Map<`${HybridSource | 'none'}:${HybridReason}`, number>;

const utf8 = new TextDecoder('utf-8', { fatal: false });

export class HybridServing {
  readonly counts: HybridCounts = new Map();

  constructor(
    private readonly endpoint: string,
    private readonly policy: HybridPolicy,
    private readonly ctx: { clock: Clock; log: Logger; predictions?: PredictionLookup },
  ) {}

  /**
   * Answers a request; `io.count` records the outcome of the source that answered (an arm of the
   * endpoint). @throws SibylError PREDICTION_KEY_MISSING, PREDICTION_NOT_FOUND or
   * PREDICTION_STORE_UNAVAILABLE when nothing can answer; the live target's errors otherwise.
   */
  async answer(request: InferRequest, rc: RequestContext, io: PolicyIo): Promise<HybridAnswer> {
    const p = this.policy;
    const count = (arm: HybridSource, outcome: 'ok' | 'server-error' | 'client-error'): void => io.count(arm, outcome);
    const { key, inputs } = this.keyOf(request, rc);
    let stored: StoredPrediction | undefined;
    let storeFailed = false;
    if (key !== undefined) {
      try {
        if (this.ctx.predictions === undefined) throw new Error('the server has no prediction store');
        stored = (await this.ctx.predictions.lookup(p.storedModel, [key])).get(key);
      } catch (err) {
        storeFailed = true;
        this.ctx.log.warn({ endpoint: this.endpoint, err }, `endpoint ${this.endpoint}: cannot read the prediction store: ${(err as Error).message}`);
      }
    }
    const decision = decideHybrid({
      key,
      storedAtMs: stored?.createdAtMs,
      storeFailed,
      nowMs: this.ctx.clock.epochMs(),
      maxAgeMs: p.maxAgeMs,
      hasInputs: inputs.length > 0,
      hasDefault: p.default !== undefined,
    });
    if (decision.source === 'none') {
      this.counted('none', decision.reason);
      throw new SibylError(decision.error, this.nothingAnswers(key, decision.reason, decision.ageMs));
    }
    const parameters: Parameters = { sibyl_source: decision.source, sibyl_source_reason: decision.reason };
    if (decision.ageMs !== undefined) parameters.sibyl_prediction_age_ms = decision.ageMs;
    if (decision.source === 'store') {
      const response = counting(() => selectOutputs(storedAnswer(stored!), request, `the stored prediction of ${p.storedModel}`), () => count('store', 'client-error'));
      parameters.sibyl_prediction_job_id = stored!.jobId;
      parameters.sibyl_prediction_created_at = new Date(stored!.createdAtMs).toISOString();
      count('store', 'ok');
      this.counted('store', decision.reason);
      return { response, source: 'store', parameters };
    }
    if (decision.source === 'default') return this.answerDefault(request, decision.reason, parameters, count);
    const live: InferRequest = { ...request, inputs };
    const spare = io.needsInputCopy ? inputs.map(copyTensor) : undefined;
    try {
      const outcome = await io.call(p.target, live, rc, spare);
      if (outcome.fallback !== undefined) {
        parameters.sibyl_fallback = true;
        parameters.sibyl_fallback_reason = outcome.fallback;
      }
      count('live', outcome.error === undefined ? 'ok' : 'server-error');
      this.counted('live', decision.reason);
      return { response: outcome.response, source: 'live', parameters };
    } catch (err) {
      const serverError = isServerError(err);
      count('live', serverError ? 'server-error' : 'client-error');
      if (!serverError || p.default === undefined) {
        this.counted('none', 'live_failed');
        throw err;
      }
      this.ctx.log.warn({ endpoint: this.endpoint }, `endpoint ${this.endpoint}: ${targetKey(p.target)} failed, the default answers: ${(err as Error).message}`);
      return this.answerDefault(request, 'live_failed', { ...parameters, sibyl_source_reason: 'live_failed' }, count);
    }
  }

  private answerDefault(request: InferRequest, reason: HybridReason, parameters: Parameters, count: (arm: HybridSource, outcome: 'ok' | 'client-error') => void): HybridAnswer {
    const response = counting(
      () => selectOutputs({ model_name: 'default', outputs: defaultOutputs(this.policy.default as readonly DefaultOutput[]) }, request, `the default response of endpoint ${this.endpoint}`),
      () => count('default', 'client-error'),
    );
    count('default', 'ok');
    this.counted('default', reason);
    return { response, source: 'default', parameters: { ...parameters, sibyl_source: 'default' } };

  }

  private counted(source: HybridSource | 'none', reason: HybridReason): void {
    const k = `${source}:${reason}` as const;
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }

  /** The request's key, and the inputs for the live target (without the key's input). */
  private keyOf(request: InferRequest, rc: RequestContext): { key: string | undefined; inputs: Tensor[] } {
    const k = this.policy.key;
    if (k.parameter !== undefined) {
      const v = request.parameters?.[k.parameter];
      return { key: v === undefined || v === '' ? undefined : String(v), inputs: request.inputs };
    }
    if (k.header !== undefined) {
      const v = rc.header?.(k.header);
      return { key: v === undefined || v === '' ? undefined : v, inputs: request.inputs };
    }
    const i = request.inputs.findIndex((t) => t.name === k.input);
    if (i < 0) return { key: undefined, inputs: request.inputs };
    const t = request.inputs[i]!;
    if (t.data.length !== 1) {
      throw new SibylError('INPUT_DATA_MISMATCH', `input '${k.input}' of endpoint ${this.endpoint} is its key and has ${t.data.length} elements; expected one (a hybrid endpoint answers one key per request)`);
    }
    const v = t.data[0]!;
    const key = v instanceof Uint8Array ? utf8.decode(v) : String(v);
    return { key, inputs: request.inputs.filter((_, j) => j !== i) };
  }

  private nothingAnswers(key: string | undefined, reason: HybridReason, ageMs: number | undefined): string {
    const p = this.policy;
    const where = p.key.parameter !== undefined ? `parameter '${p.key.parameter}'` : p.key.header !== undefined ? `header '${p.key.header}'` : `input '${p.key.input}'`;
    const otherwise = `send the inputs to predict live${p.default === undefined ? ', or configure hybrid.default' : ''}`;
    switch (reason) {
      case 'no_key':
        return `endpoint ${this.endpoint} needs the key in the ${where}, or inputs to predict live; the request has neither`;
      case 'store_unavailable':
        return `endpoint ${this.endpoint} cannot read the prediction store for key ${JSON.stringify(key)}; ${otherwise}`;
      case 'stale':
        return `the stored prediction of ${p.storedModel} for key ${JSON.stringify(key)} is ${ageMs} ms old, older than maxAgeMs ${p.maxAgeMs} of endpoint ${this.endpoint}; ${otherwise}`;
      default:
        return `no prediction of ${p.storedModel} is stored for key ${JSON.stringify(key)} (endpoint ${this.endpoint}); ${otherwise}`;
    }
  }
}

/**
 * The outputs the request asks for (all when it names none), as a model would answer them.
 * @throws SibylError OUTPUT_UNKNOWN naming what the answer has.
 */
function selectOutputs(response: InferResponse, request: InferRequest, what: string): InferResponse {
  const asked = request.outputs;
  if (asked === undefined || asked.length === 0) return response;
  const outputs = asked.map((o) => {
    const found = response.outputs.find((t) => t.name === o.name);
    if (found === undefined) throw new SibylError('OUTPUT_UNKNOWN', `${what} has no output '${o.name}'; its outputs are ${response.outputs.map((t) => `'${t.name}'`).join(', ')}`);
    return found;
  });
  return { ...response, outputs };
}

/** `make()`, calling `failed` before rethrowing what it throws (so the request is counted). */
function counting<T>(make: () => T, failed: () => void): T {
  try {
    return make();
  } catch (err) {
    failed();
    throw err;
  }
}

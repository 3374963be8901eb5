// An endpoint's shadow around its answers: a share of requests is copied to the shadow target
// after the caller's answer, which never waits for it; the copy's answer is compared with the
// caller's (same top class, largest absolute difference). Copies beyond maxInFlight are dropped.
import type { InferRequest, InferResponse, Tensor } from '@sibyl/protocol';
import type { EndpointConfig } from '../config/endpoint-config.ts';
import type { Random } from '../core/random.ts';
import type { RequestContext } from '../core/request-context.ts';
import { copyTensor } from '../core/tensor-rows.ts';
import { compareOutputs } from './policies/agreement.ts';
import { targetKey, type RunTarget } from './target.ts';

export interface ShadowSnapshot {
  /** targetKey of the shadow target. */
  readonly target: string;
  readonly fraction: number;
  readonly sent: number;
  readonly dropped: number;
  readonly failed: number;
  /** Answers compared with the caller's. */
  readonly compared: number;
  readonly rows: number;
  readonly sameTopClass: number;
  /** Largest absolute difference over every comparison, and the sum of each comparison's largest. */
  readonly maxAbsDiff: number;
  readonly sumMaxAbsDiff: number;
}

type ShadowConfig = NonNullable<EndpointConfig['shadow']>;

export class Shadow {
  private inFlight = 0;
  private sent = 0;
  private dropped = 0;
  private failed = 0;
  private compared = 0;
  private rows = 0;
  private sameTopClass = 0;
  private maxAbsDiff = 0;
  private sumMaxAbsDiff = 0;

  constructor(
    private readonly config: ShadowConfig,
    private readonly random: Random,
    private readonly run: RunTarget,
  ) {}

  /**
   * Answers through `answer`, and sends a copy of the request to the shadow target after it when
   * this request is drawn (before `answer` runs, which may take the inputs). The copy carries
   * the request's context without the caller's signal: a caller that goes does not cancel it.
   */
  async around(request: InferRequest, context: RequestContext, answer: () => Promise<InferResponse>): Promise<InferResponse> {
    let inputs: Tensor[] | undefined;
    if (this.random() < this.config.fraction) {
      if (this.inFlight >= this.config.maxInFlight) this.dropped++;
      else inputs = request.inputs.map(copyTensor);
    }
    const answered = await answer();
    if (inputs !== undefined) this.send({ ...request, inputs }, answered, { ...context, signal: undefined });
    return answered;
  }

  private send(request: InferRequest, primary: InferResponse, context: RequestContext): void {
    const { target, compareOutput } = this.config;
    this.inFlight++;
    this.sent++;
    setImmediate(() => {
      this.run(target, request, context)
        .then((answer) => {
          const name = compareOutput ?? primary.outputs[0]?.name;
          const a = primary.outputs.find((o) => o.name === name);
          const b = answer.outputs.find((o) => o.name === name);
          const agreement = a === undefined || b === undefined ? undefined : compareOutputs(a, b);
          if (agreement === undefined) return;
          this.compared++;
          this.rows += agreement.rows;
          this.sameTopClass += agreement.sameTopClass;
          this.maxAbsDiff = Math.max(this.maxAbsDiff, agreement.maxAbsDiff);
          this.sumMaxAbsDiff += agreement.maxAbsDiff;
        })
        .catch(() => {
          this.failed++;
        })
        .finally(() => this.inFlight--);
    });
  }

  snapshot(): ShadowSnapshot {
    return {
      target: targetKey(this.config.target),
      fraction: this.config.fraction,
      sent: this.sent,
      dropped: this.dropped,
      failed: this.failed,
      compared: this.compared,
      rows: this.rows,
      sameTopClass: this.sameTopClass,
      maxAbsDiff: this.maxAbsDiff,
      sumMaxAbsDiff: this.sumMaxAbsDiff,
    };
  }
}

// What the inference service tells observers (metrics, prediction log, drift, tracing) about each
// request. The interface lives here, with the layer that emits; implementations live in
// observability/ and are wired by the composition root.
import type { InferRequest, InferResponse, SibylError } from '@sibyl/protocol';
import type { RequestContext } from '../core/request-context.ts';
import type { ServedVersion } from '../models/served-version.ts';

/** How one request ended, as observers see it. */
export interface InferOutcome {
  /** The model the request named. */
  readonly model: string;
  /** The version that took it; undefined when it failed before one was chosen (unknown model…). */
  readonly served: ServedVersion | undefined;
  /** Undefined when the frontend could not decode the request (see InferenceService.rejected). */
  readonly request: InferRequest | undefined;
  /** Set on success. */
  readonly response: InferResponse | undefined;
  /** Set on failure. */
  readonly error: SibylError | undefined;
  /** From the request's arrival (context.arrivalMs: its entry's receipt of it) to the answer, in ms. */
  readonly totalMs: number;
  /** The request's context, as its entry made it (a shadow copy or fallback call carries the caller's). */
  readonly context: RequestContext;
  /** What started() returned for this request. */
  readonly token: unknown;
}

/**
 * Called on the event loop for every request; implementations must be cheap, allocate little on
 * requests they do not keep, and never throw.
 */
export interface InferenceObserver {
  /**
   * The request was validated and is about to be queued on `served`. Its input buffers are still
   * readable here and only here (the scheduler takes ownership next and may transfer them to a
   * worker): copy what you keep. The return value comes back as InferOutcome.token.
   */
  started(served: ServedVersion, request: InferRequest, context: RequestContext): unknown;
  /** The request was answered or failed. Response tensors are readable during the call. */
  finished(outcome: InferOutcome): void;
}

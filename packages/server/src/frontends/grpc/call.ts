// What every gRPC handler shares: its dependencies, running one inference, and turning errors
// into statuses.
import { SibylError, decodeGrpcInferRequest, encodeGrpcInferResponse, isUnexpectedServerFault, type GrpcModelInferRequest, type GrpcModelInferResponse } from '@sibyl/protocol';
import type { Metadata } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { CancelToken } from '../../core/cancellation.ts';
import type { ModelManager } from '../../models/model-manager.ts';
import { UNTHROTTLED, type KeyedLineWriter } from '../../observability/logging/throttled-log.ts';
import type { InferContext } from '../../routing/inference-observer.ts';
import type { InferenceService } from '../../routing/inference-service.ts';
import type { Router } from '../../routing/router.ts';
import { withCallDeadline } from './deadline.ts';
import { asSibylError, grpcErrorOf } from './errors.ts';
import { checkDecoded } from './refused-message.ts';

export interface GrpcHandlerDeps {
  models: ModelManager;
  /** Names are endpoints or models; the router decides which answers (the one request path). */
  router: Router;
  /** For observation only (metrics, prediction log): whether observers listen, and rejected requests. */
  inference: InferenceService;
  log: Logger;
  /** Rate-limits the lines a caller can cause (failed calls); default: every line is written. */
  lineLimiter?: KeyedLineWriter;
  serverName: string;
  serverVersion: string;
  extensions: readonly string[];
  /** False while starting (models loading) and while draining. */
  isReady: () => boolean;
  /** True once shutdown began: every RPC but ServerLive and ServerReady gets UNAVAILABLE SERVER_DRAINING. */
  isDraining: () => boolean;
  /** Told when an inference call arrives, so batch jobs in the server give way. */
  onlineActivity?: { touch(nowMs: number): void };
}

/** What a call carries besides its message: its time left, its cancellation, its metadata. */
export interface CallFacts {
  remainingMs: number | undefined;
  cancel: CancelToken;
  metadata: Metadata;
}

/** Runs one inference call: decode, apply the call's remaining time, route and infer (cancelled by `cancel`), encode. */
export async function inferOne(deps: GrpcHandlerDeps, message: GrpcModelInferRequest, call: CallFacts): Promise<GrpcModelInferResponse> {
  if (deps.isDraining()) throw drainingError();
  checkDecoded(message);
  deps.onlineActivity?.touch(performance.now());
  const observed: InferContext | undefined = deps.inference.observed ? { requestId: message.id === '' ? undefined : message.id, elapsedBeforeMs: 0 } : undefined;
  let target;
  try {
    target = decodeGrpcInferRequest(message, { allowNoInputs: (model) => deps.router.answersByKey(model, { version: message.model_version }) });
  } catch (err) {
    if (observed !== undefined && err instanceof SibylError) deps.inference.rejected(message.model_name ?? '', { version: message.model_version }, err, observed);
    throw err;
  }
  const request = withCallDeadline(target.request, call.remainingMs);
  // Metadata stands for headers (sticky keys of split endpoints and the like).
  const header = (name: string): string | undefined => {
    const value = call.metadata.get(name)[0];
    return typeof value === 'string' ? value : undefined;
  };
  const response = await deps.router.infer(target.model, { version: target.version }, request, call.cancel, { header, observed });
  // Answer in kind: raw contents for raw requests (what Triton's clients send and read).
  return encodeGrpcInferResponse(response, { raw: target.raw });
}

/** Logs unexpected server faults (the error table's: INTERNAL, UNKNOWN) with their cause, the rest by reason at debug; turns anything thrown into a gRPC status. */
export function failWith(deps: GrpcHandlerDeps, method: string, err: unknown) {
  const error = asSibylError(err);
  // Keyed by reason and method, never by the message: a caller repeating a failure writes at most
  // a burst of lines per window, then one summary (observability/logging/throttled-log.ts).
  const lines = deps.lineLimiter ?? UNTHROTTLED;
  if (isUnexpectedServerFault(error)) lines.write(deps.log, 'error', `grpc ${method} ${error.reason}`, { err: error.cause ?? error, method }, error.message);
  else lines.write(deps.log, 'debug', `grpc ${method} ${error.reason}`, { reason: error.reason, method }, error.message);
  return grpcErrorOf(error);
}

export function drainingError(): SibylError {
  return new SibylError('SERVER_DRAINING', 'the server is shutting down and takes no new requests; retry on another replica');
}

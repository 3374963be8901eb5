// What every gRPC handler shares: its dependencies, running one inference, and turning errors
// into statuses.
import { SibylError, decodeGrpcInferRequest, encodeGrpcInferResponse, type GrpcModelInferRequest, type GrpcModelInferResponse } from '@sibyl/protocol';
import type { Logger } from 'pino';
import type { CancelToken } from '../../core/cancellation.ts';
import type { ModelManager } from '../../models/model-manager.ts';
import type { InferenceService } from '../../routing/inference-service.ts';
import { withCallDeadline } from './deadline.ts';
import { asSibylError, grpcErrorOf } from './errors.ts';

export interface GrpcHandlerDeps {
  models: ModelManager;
  inference: InferenceService;
  log: Logger;
  serverName: string;
  serverVersion: string;
  extensions: readonly string[];
  /** False while starting (models loading) and while draining. */
  isReady: () => boolean;
  /** True once shutdown began: every RPC but ServerLive and ServerReady gets UNAVAILABLE SERVER_DRAINING. */
  isDraining: () => boolean;
}

/** Runs one inference call: decode, apply the call's remaining time, infer (cancelled by `cancel`), encode. */
export async function inferOne(deps: GrpcHandlerDeps, message: GrpcModelInferRequest, remainingMs: number | undefined, cancel: CancelToken): Promise<GrpcModelInferResponse> {
  if (deps.isDraining()) throw drainingError();
  const target = decodeGrpcInferRequest(message);
  const request = withCallDeadline(target.request, remainingMs);
  const response = await deps.inference.infer(target.model, { version: target.version }, request, cancel);
  // Answer in kind: raw contents for raw requests (what Triton's clients send and read).
  return encodeGrpcInferResponse(response, { raw: target.raw });
}

/** Logs server faults (never the client's) and turns anything thrown into a gRPC status. */
export function failWith(deps: GrpcHandlerDeps, method: string, err: unknown) {
  const error = asSibylError(err);
  if (error.code === 'INTERNAL' || error.code === 'UNKNOWN') deps.log.error({ err: error.cause ?? error, method }, error.message);
  else deps.log.debug({ reason: error.reason, method }, error.message);
  return grpcErrorOf(error);
}

export function drainingError(): SibylError {
  return new SibylError('SERVER_DRAINING', 'the server is shutting down and takes no new requests; retry on another replica');
}

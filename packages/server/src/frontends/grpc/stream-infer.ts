// ModelStreamInfer: many inference requests on one bidirectional stream. Each request is run as
// ModelInfer runs it (same validation, batching, deadline) and answered with one
// ModelStreamInferResponse, in completion order (clients match answers by request id). A failed
// request is answered with `error_message` (and, in Sibyl's parameters on `infer_response`, its
// code and reason) and the stream goes on. When the client half-closes, the stream ends after the
// last answer; when it cancels, queued requests are dropped.
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { parametersToGrpc, type GrpcModelInferRequest } from '@sibyl/protocol';
import { CancelToken } from '../../serving/frontend-vocabulary.ts';
import { drainingError, failWith, inferOne, type GrpcHandlerDeps } from './call.ts';
import { remainingMs } from './deadline.ts';
import { asSibylError } from './errors.ts';

type StreamCall = ServerDuplexStream<GrpcModelInferRequest, Record<string, unknown>>;

export function modelStreamInfer(deps: GrpcHandlerDeps): (call: StreamCall) => void {
  return (call) => {
    if (deps.isDraining()) {
      call.emit('error', failWith(deps, 'ModelStreamInfer', drainingError()));
      return;
    }
    const pending = new Set<CancelToken>();
    let ended = false;
    const finishIfDone = (): void => {
      if (ended && pending.size === 0) call.end();
    };
    call.on('cancelled', () => {
      for (const token of pending) token.cancel();
      pending.clear();
    });
    call.on('data', (message: GrpcModelInferRequest) => {
      const arrivalMs = deps.core.clock.now();
      const token = new CancelToken();
      pending.add(token);
      inferOne(deps, message, { arrivalMs, remainingMs: remainingMs(call.getDeadline(), Date.now()), cancel: token, metadata: call.metadata, principal: deps.principalOf?.(call.getAuthContext()?.sslPeerCertificate) })
        .then(
          (response) => ({ error_message: '', infer_response: response }),
          (err: unknown) => {
            const error = asSibylError(err);
            failWith(deps, 'ModelStreamInfer', error); // logs server faults
            return {
              error_message: error.message,
              infer_response: {
                model_name: message.model_name ?? '',
                model_version: message.model_version ?? '',
                id: message.id ?? '',
                parameters: parametersToGrpc({ sibyl_error_code: error.code, sibyl_error_reason: error.reason }),
              },
            };
          },
        )
        .then((answer) => {
          if (!pending.delete(token) || call.cancelled) return;
          call.write(answer);
          finishIfDone();
        });
    });
    call.on('end', () => {
      ended = true;
      finishIfDone();
    });
  };
}

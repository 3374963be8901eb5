// ModelStreamInfer: many inference requests on one bidirectional stream. Each request is run as
// ModelInfer runs it (same validation, batching, deadline) and answered with one
// ModelStreamInferResponse, in completion order (clients match answers by request id). A failed
// request is answered with `error_message` (and, in Sibyl's parameters on `infer_response`, its
// code and reason) and the stream goes on. When the client half-closes, the stream ends after the
// last answer; when it cancels, queued requests are dropped.
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { parametersToGrpc, type GrpcModelInferRequest } from '@sibyl/protocol';
import { CancelToken, type Principal } from '../../serving/frontend-vocabulary.ts';
import { callPrincipal, drainingError, failWith, inferOne, type GrpcHandlerDeps } from './call.ts';
import { remainingMs } from './deadline.ts';
import { asSibylError } from './errors.ts';

type StreamCall = ServerDuplexStream<GrpcModelInferRequest, Record<string, unknown>>;

export function modelStreamInfer(deps: GrpcHandlerDeps): (call: StreamCall) => void {
  return (call) => {
    if (deps.isDraining()) {
      call.emit('error', failWith(deps, 'ModelStreamInfer', drainingError()));
      return;
    }
    // The caller is authenticated once, from the stream's metadata; each message's scope
    // (infer:<model_name>) is checked as it arrives, and a refused one is answered in the stream.
    let caller: Principal | undefined | Promise<Principal>;
    try {
      caller = callPrincipal(deps, call.metadata, call.getAuthContext()?.sslPeerCertificate);
    } catch (err) {
      call.emit('error', failWith(deps, 'ModelStreamInfer', err));
      return;
    }
    const authenticated: Promise<Principal | undefined> | undefined = caller instanceof Promise ? caller : undefined;
    let principal = caller instanceof Promise ? undefined : caller;
    let refused = false;
    authenticated?.then(
      (p) => (principal = p),
      (err: unknown) => {
        refused = true;
        call.emit('error', failWith(deps, 'ModelStreamInfer', err));
      },
    );
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
      const run = (): Promise<unknown> => inferOne(deps, message, { arrivalMs, remainingMs: remainingMs(call.getDeadline(), Date.now()), cancel: token, metadata: call.metadata, principal });
      (authenticated === undefined ? run() : authenticated.then(run))
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
          if (!pending.delete(token) || call.cancelled || refused) return;
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

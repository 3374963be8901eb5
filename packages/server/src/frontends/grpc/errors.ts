// Errors → gRPC statuses. The status code comes from the shared table in @sibyl/protocol; the
// message is the SibylError's, and trailing metadata carries Sibyl's `code` and `reason` (as
// the V2 REST body does) plus `retry-after` when the error says when to retry.
import { Metadata, type ServerErrorResponse } from '@grpc/grpc-js';
import { GRPC_ERROR_METADATA as ERROR_METADATA, SibylError, grpcStatusOf } from '@sibyl/protocol';

/** Anything thrown → a SibylError (unknown errors become INTERNAL_ERROR, keeping the cause). */
export function asSibylError(err: unknown): SibylError {
  if (err instanceof SibylError) return err;
  return new SibylError('INTERNAL_ERROR', 'internal server error; the server log has the details', { cause: err });
}

/** The status a handler passes to its callback (or emits on a stream) for `err`. */
export function grpcErrorOf(err: SibylError): ServerErrorResponse {
  const metadata = new Metadata();
  metadata.set(ERROR_METADATA.code, err.code);
  metadata.set(ERROR_METADATA.reason, err.reason);
  const retryAfterSeconds = err.details?.retryAfterSeconds;
  if (typeof retryAfterSeconds === 'number') metadata.set(ERROR_METADATA.retryAfter, String(retryAfterSeconds));
  return Object.assign(new Error(err.message), { code: grpcStatusOf(err.code), details: err.message, metadata });
}

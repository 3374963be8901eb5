// A gRPC call's deadline, in the core's terms. The core honours Triton's `timeout` request
// parameter; a call's deadline becomes that parameter (the earlier of the two when the request
// also sets one), so a request whose deadline passes while queued is never run, as over REST.
import { SibylError, withTimeoutParameter, type InferRequest } from '@sibyl/protocol';
import type { Deadline } from '@grpc/grpc-js';

/** Milliseconds left before `deadline` at `nowMs` (epoch ms); undefined when there is none. */
export function remainingMs(deadline: Deadline, nowMs: number): number | undefined {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) ? at - nowMs : undefined;
}

/** The request with the call's remaining time as its timeout. @throws SibylError DEADLINE_EXCEEDED when no time is left. */
export function withCallDeadline(request: InferRequest, remaining: number | undefined): InferRequest {
  if (remaining === undefined) return request;
  if (remaining <= 0) throw new SibylError('DEADLINE_EXCEEDED', `the call's deadline passed ${(-remaining).toFixed(0)} ms before the request reached the server's queue`);
  return withTimeoutParameter(request, remaining);
}

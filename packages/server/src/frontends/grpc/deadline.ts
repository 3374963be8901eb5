// A gRPC call's deadline, in the core's terms. The core already honours Triton's `timeout`
// request parameter (µs from arrival); a call's deadline becomes that parameter (the earlier of
// the two when the request also sets one), so a request whose deadline passes while queued is
// never run, exactly as over REST.
import { SibylError, type InferRequest } from '@sibyl/protocol';
import type { Deadline } from '@grpc/grpc-js';

/** Milliseconds left before `deadline` at `nowMs` (epoch ms); undefined when there is none. */
export function remainingMs(deadline: Deadline, nowMs: number): number | undefined {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) ? at - nowMs : undefined;
}

/**
 * Sets the request's `timeout` parameter from the call's remaining time (in place).
 * @throws SibylError DEADLINE_EXCEEDED when no time is left.
 */
export function applyDeadline(request: InferRequest, remaining: number | undefined): void {
  if (remaining === undefined) return;
  if (remaining <= 0) throw new SibylError('DEADLINE_EXCEEDED', `the call's deadline passed ${(-remaining).toFixed(0)} ms before the request reached the server's queue`);
  const timeoutUs = Math.max(1, Math.floor(remaining * 1000));
  const own = request.parameters?.timeout;
  const ownUs = typeof own === 'bigint' ? Number(own) : own;
  // An invalid `timeout` is left for the core to refuse (PARAMETER_INVALID), never overwritten.
  if (own !== undefined && typeof ownUs !== 'number') return;
  if (typeof ownUs === 'number' && ownUs > 0 && ownUs <= timeoutUs) return;
  request.parameters = { ...request.parameters, timeout: timeoutUs };
}

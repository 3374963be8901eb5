// A call's deadline as Triton's `timeout` request parameter (µs from arrival), the one way the
// protocol carries a deadline inside a request: clients set it so the server never runs a
// request they gave up on, and the gRPC frontend turns a call's deadline into it.
import type { InferRequest } from './infer.ts';

/**
 * `request` with its `timeout` parameter set to `remainingMs` (in µs, at least 1), unless the
 * request's own timeout is already earlier. An own timeout that is not a non-negative integer
 * (-5, 1.5, "soon") is left as it is, for the server to refuse as PARAMETER_INVALID exactly as
 * it would without a deadline: a call's deadline never hides a client's mistake. 0 means "no
 * timeout" (as in Triton) and gives way. Returns a new request when it changes anything; never
 * modifies `request`.
 */
export function withTimeoutParameter(request: InferRequest, remainingMs: number): InferRequest {
  const leftUs = Math.max(1, Math.floor(remainingMs * 1000));
  const own = request.parameters?.timeout;
  if (own === undefined) return { ...request, parameters: { ...request.parameters, timeout: leftUs } };
  const ownUs = typeof own === 'bigint' ? Number(own) : own;
  if (typeof ownUs !== 'number' || !Number.isInteger(ownUs) || ownUs < 0 || (ownUs > 0 && ownUs <= leftUs)) return request;
  return { ...request, parameters: { ...request.parameters, timeout: leftUs } };
}

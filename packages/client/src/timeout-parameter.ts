// A call's remaining time as Triton's `timeout` request parameter (µs), so the server never runs
// a request its client has given up on. The caller's request is not modified.
import type { InferRequest } from '@sibyl/protocol';

/** `request` with `timeout` set to the time left before `deadlineMs` (the earlier of it and the request's own). */
export function withRemainingTimeout(request: InferRequest, deadlineMs: number | undefined): InferRequest {
  if (deadlineMs === undefined) return request;
  const leftUs = Math.max(1, Math.floor((deadlineMs - Date.now()) * 1000));
  const own = request.parameters?.timeout;
  const ownUs = typeof own === 'bigint' ? Number(own) : own;
  if (typeof ownUs === 'number' && ownUs > 0 && ownUs <= leftUs) return request;
  if (own !== undefined && typeof ownUs !== 'number') return request; // the server explains a bad value
  return { ...request, parameters: { ...request.parameters, timeout: leftUs } };
}

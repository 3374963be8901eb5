// The client's error: what the server (or the way to it) said, with the shared `code` (gRPC-
// aligned, from the error table of @sibyl/protocol) and, when the server is Sibyl, its fine
// `reason`. Other Open Inference Protocol servers send no reason, so `reason` may be undefined:
// this is why the client does not throw the server's SibylError, whose reason is required.
import { ERROR_CODES, isErrorReason, isRetriable, isServerFault, reasonOfHttpStatus, type ErrorCode, type ErrorReason } from '@sibyl/protocol';

export type Transport = 'rest' | 'grpc';

export interface ClientErrorDetails {
  /** HTTP status (REST) or gRPC status number; undefined when no answer came. */
  status?: number;
  /** How long the server asked to wait before retrying (Retry-After), in ms. */
  retryAfterMs?: number;
  transport?: Transport;
  cause?: unknown;
}

export class ClientError extends Error {
  readonly code: ErrorCode;
  readonly reason: ErrorReason | undefined;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly transport: Transport | undefined;

  constructor(code: ErrorCode, reason: string | undefined, message: string, details: ClientErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ClientError';
    this.code = code;
    this.reason = isErrorReason(reason) ? reason : undefined;
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
    this.transport = details.transport;
  }
}

/**
 * Whether the call is worth making again as it is: the error table's retriable errors (the server
 * could not take the request now, and did not run it). A reason refines its code: a body over
 * the server's limit (RESOURCE_EXHAUSTED BODY_TOO_LARGE) is refused again, so it is not retried.
 */
export function shouldRetry(error: ClientError): boolean {
  return isRetriable(error.code, classifyingReason(error));
}

/**
 * The reason that classifies `error`: the server's, or else the one its HTTP status names by
 * itself (a proxy's or another server's bare 413 is BODY_TOO_LARGE: not retried, no fallback).
 * `error.reason` stays what the server said.
 */
function classifyingReason(error: ClientError): ErrorReason | undefined {
  if (error.reason !== undefined || error.transport !== 'rest' || error.status === undefined) return error.reason;
  return reasonOfHttpStatus(error.status);
}

/**
 * Whether a fallback value answers for `error`: the error table's server faults (the server could
 * not answer, through no fault of the request — a broken model included, MODEL_LOAD_FAILED).
 */
export function answersWithFallback(error: ClientError): boolean {
  return isServerFault({ code: error.code, reason: classifyingReason(error) });
}

/** Codes retried when the error carries no reason (UNAVAILABLE, RESOURCE_EXHAUSTED), from the error table. */
export const RETRIABLE_CODES: ReadonlySet<ErrorCode> = new Set(ERROR_CODES.filter((code) => isRetriable(code)));

/** Codes a fallback answers when the error carries no reason (UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, INTERNAL, UNKNOWN), from the error table. */
export const FALLBACK_CODES: ReadonlySet<ErrorCode> = new Set(ERROR_CODES.filter((code) => isServerFault({ code })));

/** Anything thrown by a codec or a transport → a ClientError (SibylErrors keep code and reason). */
export function asClientError(err: unknown, transport: Transport): ClientError {
  if (err instanceof ClientError) return err;
  const e = err as { code?: unknown; reason?: unknown; message?: unknown; name?: unknown };
  if (e !== null && typeof e === 'object' && e.name === 'SibylError') {
    return new ClientError(e.code as ErrorCode, e.reason as string, String(e.message), { transport, cause: err });
  }
  return new ClientError('INTERNAL', undefined, `client error: ${(err as Error)?.message ?? String(err)}`, { transport, cause: err });
}

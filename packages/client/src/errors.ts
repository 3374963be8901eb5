// The client's error: what the server (or the way to it) said, with the shared `code` (gRPC-
// aligned, from the error table of @sibyl/protocol) and, when the server is Sibyl, its fine
// `reason`. Other Open Inference Protocol servers send no reason, so `reason` may be undefined:
// this is why the client does not throw the server's SibylError, whose reason is required.
import { isErrorReason, type ErrorCode, type ErrorReason } from '@sibyl/protocol';

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

/** Codes worth retrying: the server could not take the request now, and did not run it. */
export const RETRIABLE_CODES: ReadonlySet<ErrorCode> = new Set(['UNAVAILABLE', 'RESOURCE_EXHAUSTED']);

/** Codes after which a fallback value answers: the server could not answer, through no fault of the request. */
export const FALLBACK_CODES: ReadonlySet<ErrorCode> = new Set(['UNAVAILABLE', 'RESOURCE_EXHAUSTED', 'DEADLINE_EXCEEDED', 'INTERNAL', 'UNKNOWN']);

/** Anything thrown by a codec or a transport → a ClientError (SibylErrors keep code and reason). */
export function asClientError(err: unknown, transport: Transport): ClientError {
  if (err instanceof ClientError) return err;
  const e = err as { code?: unknown; reason?: unknown; message?: unknown; name?: unknown };
  if (e !== null && typeof e === 'object' && e.name === 'SibylError') {
    return new ClientError(e.code as ErrorCode, e.reason as string, String(e.message), { transport, cause: err });
  }
  return new ClientError('INTERNAL', undefined, `client error: ${(err as Error)?.message ?? String(err)}`, { transport, cause: err });
}

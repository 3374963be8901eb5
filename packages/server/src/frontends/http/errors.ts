// Errors → HTTP. Status codes come from the shared table in @sibyl/protocol; bodies are the V2
// `{"error": "..."}` with Sibyl's `code` and `reason` added. Fastify's own errors (body too
// large, unparsable request) and zlib's (a corrupt compressed body) are translated here so users
// see one format.
import { SibylError, type ErrorBody } from '@sibyl/protocol';
import type { FastifyError, FastifyReply } from 'fastify';

/** Translates an error of Fastify's, zlib's (or anything thrown) into a SibylError. */
export function toHttpError(err: FastifyError | Error, bodyLimitBytes: number): SibylError {
  if (err instanceof SibylError) return err;
  const code = (err as FastifyError).code;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return bodyTooLarge(bodyLimitBytes);
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return new SibylError('MALFORMED_REQUEST', `request body does not decompress as its Content-Encoding says: ${err.message}`);
  }
  const status = (err as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) return new SibylError('MALFORMED_REQUEST', err.message);
  return new SibylError('INTERNAL_ERROR', 'internal server error; the server log has the details', { cause: err });
}

export function bodyTooLarge(bodyLimitBytes: number): SibylError {
  return new SibylError(
    'BODY_TOO_LARGE',
    `request body is larger than the limit of ${bodyLimitBytes} bytes; send a smaller request or raise http.bodyLimitBytes (SIBYL_HTTP_BODY_LIMIT_BYTES)`,
  );
}

/** The refusal of a compressed body whose inflated bytes pass `limitBytes` (a decompression bomb, or just too much). */
export function inflatedBodyTooLarge(limitBytes: number): SibylError {
  return new SibylError(
    'BODY_TOO_LARGE',
    `the compressed request body inflates to more than the limit of ${limitBytes} bytes (http.maxInflatedBodyBytes, at most http.bodyLimitBytes); send a smaller request or raise the limit`,
    { details: { limit: limitBytes } },
  );
}

/**
 * Sends an error body. The content type is exactly `application/json` (no charset): KServe's
 * Python client reads the `error` field only then. An error whose details say when to retry
 * (`retryAfterSeconds`) gets a Retry-After header.
 */
export function sendError(reply: FastifyReply, err: SibylError, extra?: Record<string, unknown>): FastifyReply {
  const body: ErrorBody & Record<string, unknown> = { ...err.toBody(), ...extra };
  const retryAfterSeconds = err.details?.retryAfterSeconds;
  if (typeof retryAfterSeconds === 'number') reply.header('Retry-After', String(retryAfterSeconds));
  return reply.code(err.httpStatus).header('content-type', 'application/json').send(Buffer.from(JSON.stringify(body)));
}

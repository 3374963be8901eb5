// Errors → HTTP. Status codes come from the shared table in @sibyl/protocol; bodies are the V2
// `{"error": "..."}` with Sibyl's `code` and `reason` added. Fastify's own errors (body too
// large, bad content type, unparsable request) are translated here so users see one format.
import { SibylError, type ErrorBody } from '@sibyl/protocol';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/** Translates an error of Fastify's (or anything thrown) into a SibylError. */
export function toHttpError(err: FastifyError | Error, request: FastifyRequest, bodyLimitBytes: number): SibylError {
  if (err instanceof SibylError) return err;
  const code = (err as FastifyError).code;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new SibylError(
        'BODY_TOO_LARGE',
        `request body is larger than the limit of ${bodyLimitBytes} bytes; send a smaller request or raise http.bodyLimitBytes (SIBYL_HTTP_BODY_LIMIT_BYTES)`,
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new SibylError('UNSUPPORTED_CONTENT_TYPE', `content type '${request.headers['content-type'] ?? ''}' is not accepted here; send application/json or application/octet-stream`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new SibylError('MALFORMED_REQUEST', 'request body is empty; expected a JSON inference request');
  }
  const status = (err as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) return new SibylError('MALFORMED_REQUEST', err.message);
  return new SibylError('INTERNAL_ERROR', 'internal server error; the server log has the details', { cause: err });
}

export function sendError(reply: FastifyReply, err: SibylError, extra?: Record<string, unknown>): FastifyReply {
  const body: ErrorBody & Record<string, unknown> = { ...err.toBody(), ...extra };
  return reply.code(err.httpStatus).type('application/json; charset=utf-8').send(JSON.stringify(body));
}

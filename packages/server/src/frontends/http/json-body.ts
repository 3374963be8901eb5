// Small JSON bodies of the management endpoints. Bodies arrive as raw bytes (see app.ts); this
// parses one into an object, or says what was wrong and what was expected.
import { SibylError } from '@sibyl/protocol';
import type { FastifyRequest } from 'fastify';

/**
 * The body as a JSON object; undefined when the body is empty.
 * @throws SibylError MALFORMED_REQUEST naming `expected`.
 */
export function readJsonObject(request: FastifyRequest, expected: string): Record<string, unknown> | undefined {
  const body = request.body as Buffer | undefined;
  if (body === undefined || body.length === 0) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new SibylError('MALFORMED_REQUEST', `request body is not valid JSON: ${(err as Error).message}; expected ${expected}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new SibylError('MALFORMED_REQUEST', `request body is ${JSON.stringify(parsed)?.slice(0, 60)}; expected ${expected}`);
  }
  return parsed as Record<string, unknown>;
}

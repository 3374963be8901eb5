// The one reader of JSON bodies outside inference (management, batch, endpoints, predictions,
// logging, and JSON carried inside them such as a load request's config). Bodies arrive as raw
// bytes (see body-intake.ts), whatever their Content-Type says (curl -d sends form encoding), so
// this reads them, not a Fastify content-type parser; inference bodies go to the protocol codecs,
// which bound their own nesting. Nesting is bounded before parsing: JSON.parse itself copes with
// deep input, but every recursive walk after it (validation, copies, JSON.stringify) would
// overflow the stack and fail as a 500.
import { SibylError } from '@sibyl/protocol';
import type { FastifyRequest } from 'fastify';

/**
 * Deepest nesting of arrays and objects accepted, the root counting 1. Real management bodies
 * (endpoint configs, job specs, state snapshots) nest under 10; protobuf's default recursion
 * limit is also 100.
 */
export const MAX_JSON_DEPTH = 100;

const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The offset at which `json` first nests deeper than `maxDepth`, or -1 if it never does. A linear
 * scan that skips strings; it does not validate (JSON.parse does, after). Works on UTF-8 bytes
 * (a quote or backslash byte is never part of a multi-byte character) and on strings alike.
 */
export function depthExceededAt(json: Uint8Array | string, maxDepth: number): number {
  const bytes = typeof json !== 'string';
  const length = json.length;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < length; i++) {
    const c = bytes ? (json as Uint8Array)[i]! : (json as string).charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > maxDepth) return i;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
  }
  return -1;
}

/**
 * Parses JSON text (bytes as UTF-8) whose nesting is at most MAX_JSON_DEPTH.
 * @param what names the text in errors ("request body", "parameters.config").
 * @throws SibylError JSON_TOO_DEEP, or MALFORMED_REQUEST for text that is not JSON; both name `expected`.
 */
export function parseJsonLimited(json: Buffer | string, what: string, expected: string): unknown {
  const at = depthExceededAt(json, MAX_JSON_DEPTH);
  if (at >= 0) {
    throw new SibylError('JSON_TOO_DEEP', `${what} nests arrays and objects more than ${MAX_JSON_DEPTH} deep (at byte ${at}); expected ${expected}, nested at most ${MAX_JSON_DEPTH} deep`);
  }
  try {
    return JSON.parse(typeof json === 'string' ? json : json.toString('utf8')) as unknown;
  } catch (err) {
    throw new SibylError('MALFORMED_REQUEST', `${what} is not valid JSON: ${(err as Error).message}; expected ${expected}`);
  }
}

/**
 * The body as a JSON object; undefined when the body is empty.
 * @throws SibylError MALFORMED_REQUEST or JSON_TOO_DEEP naming `expected`.
 */
export function readJsonObject(request: FastifyRequest, expected: string): Record<string, unknown> | undefined {
  const body = request.body as Buffer | undefined;
  if (body === undefined || body.length === 0) return undefined;
  const parsed = parseJsonLimited(body, 'request body', expected);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    // Quoted when short (a large array is not stringified again just to be cut).
    const shown = body.length <= 1024 ? JSON.stringify(parsed).slice(0, 60) : Array.isArray(parsed) ? 'an array' : 'not an object';
    throw new SibylError('MALFORMED_REQUEST', `request body is ${shown}; expected ${expected}`);
  }
  return parsed as Record<string, unknown>;
}
